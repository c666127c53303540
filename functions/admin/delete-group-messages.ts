/** `DELETE /v1/groups/{id}/messages?from={userId}`: a member's messages leave the history and every undelivered queue. */
import { checkUserId } from '../../lib/admin';
import { checkGroupId, deleteGroupMessages } from '../../lib/admin-groups';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupStore, historyStore, offlineQueue } from '../../lib/lambda/stores';

const deps = { groups: groupStore(), history: historyStore(), queue: offlineQueue() };

export const handler = httpRoute(async ({ pathParameters, query }) => ({
  status: 200,
  body: await deleteGroupMessages(deps, checkGroupId(pathParameters.id), checkUserId(query.from)),
}));
