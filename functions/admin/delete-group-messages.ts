/** `DELETE /v1/groups/{id}/messages?from={userId}`: a member's messages leave the history and every undelivered queue. */
import { checkUserId } from '../../lib/admin/admin';
import { checkGroupId, deleteGroupMessages } from '../../lib/groups/admin-groups';
import { httpRoute } from '../../lib/lambda/http-route';
import { fanOutQueue, groupStore, historyStore, offlineQueue } from '../../lib/lambda/stores';

const deps = { groups: groupStore(), history: historyStore(), queue: offlineQueue(), jobs: fanOutQueue() };

export const handler = httpRoute(async ({ pathParameters, query }) => {
  const result = await deleteGroupMessages(deps, checkGroupId(pathParameters.id), checkUserId(query.from));
  // 202 while the fan-out worker still searches some members' queues.
  return { status: result.pendingMembers > 0 ? 202 : 200, body: result };
});
