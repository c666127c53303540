/** `PUT /v1/groups/{id}`: creates the group, or makes its members exactly those given. */
import { checkGroupId, putGroup } from '../../lib/groups/admin-groups';
import { clock } from '../../lib/clock';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupStore } from '../../lib/lambda/stores';

const deps = { groups: groupStore(), clock };

export const handler = httpRoute(async ({ pathParameters, body }) => ({
  status: 200,
  body: await putGroup(deps, checkGroupId(pathParameters.id), body),
}));
