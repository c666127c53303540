/** `PUT /v1/users/{id}/config`: sets the user's duration, whatever users may set themselves. */
import { checkUserId, setUserConfig } from '../../lib/admin/admin';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), log: logger };

export const handler = httpRoute(async ({ pathParameters, body }) => ({
  status: 200,
  body: await setUserConfig(deps, checkUserId(pathParameters.id), body),
}));
