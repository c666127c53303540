/** `GET /v1/groups?cursor=`: one page of groups, each with its member count. */
import { listGroups } from '../../lib/groups/admin-groups';
import { httpRoute } from '../../lib/lambda/http-route';
import { groupLister } from '../../lib/lambda/stores';

const groups = groupLister();

export const handler = httpRoute(async ({ query }) => ({ status: 200, body: await listGroups(groups, query) }));
