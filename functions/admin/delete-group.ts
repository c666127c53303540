/** `DELETE /v1/groups/{id}`: the group and its memberships go; its history expires on its own. */
import { checkGroupId, deleteGroup } from '../../lib/groups/admin-groups';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupStore } from '../../lib/lambda/stores';

const groups = groupStore();

export const handler = httpRoute(async ({ pathParameters }) => ({ status: 200, body: await deleteGroup(groups, checkGroupId(pathParameters.id)) }));
