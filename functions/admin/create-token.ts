/** `POST /v1/tokens`: a client token for a user, for the app's backend to hand out. */
import { createToken } from '../../lib/admin/admin';
import { clock } from '../../lib/clock';
import { httpRoute } from '../../lib/lambda/http-route';
import { tokenSecret } from '../../lib/lambda/token-secret';

export const handler = httpRoute(async ({ body }) => ({ status: 201, body: await createToken(await tokenSecret(), clock, body) }));
