/** `GET /v1/groups/{id}`: the group and its members. */
import { checkGroupId, getGroup } from '../../lib/groups/admin-groups';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupStore } from '../../lib/lambda/stores';

const groups = groupStore();

export const handler = httpRoute(async ({ pathParameters }) => ({ status: 200, body: await getGroup(groups, checkGroupId(pathParameters.id)) }));
