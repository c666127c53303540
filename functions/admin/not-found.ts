/** The admin API's `$default` route: any other path gets the admin API's own JSON 404. */
import { NotFoundError } from '../../lib/errors';
import { httpRoute } from '../../lib/lambda/http-route';

export const handler = httpRoute(async () => {
  throw new NotFoundError('no such admin route; the routes are listed in docs/admin-api.md');
});
