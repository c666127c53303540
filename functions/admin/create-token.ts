/** `POST /v1/tokens`: a client token for a user, for the app's backend to hand out. */
import { createToken } from '../../lib/admin/admin';
import { tokenRequestSchema } from '../../lib/admin/admin-api';
import { clock } from '../../lib/clock';
import { BadRequestError } from '../../lib/errors';
import { httpRoute } from '../../lib/lambda/http-route';
import { tokenSecret } from '../../lib/lambda/token-secret';
import { describeIssues } from '../../lib/protocol';

export const handler = httpRoute(async ({ body }) => {
  const request = tokenRequestSchema.safeParse(body ?? {});
  if (!request.success) throw new BadRequestError(describeIssues(request.error));
  return { status: 201, body: await createToken(await tokenSecret(), clock, request.data) };
});
