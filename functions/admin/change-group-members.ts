/** `POST /v1/groups/{id}/members` `{add, remove}`: changes the members of a group that exists. */
import { changeGroupMembers, checkGroupId } from '../../lib/groups/admin-groups';
import { clock } from '../../lib/clock';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupStore } from '../../lib/lambda/stores';

const deps = { groups: groupStore(), clock };

export const handler = httpRoute(async ({ pathParameters, body }) => ({
  status: 200,
  body: await changeGroupMembers(deps, checkGroupId(pathParameters.id), body),
}));
