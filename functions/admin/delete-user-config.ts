/** `DELETE /v1/users/{id}/config`: the user falls back to the app's duration. */
import { checkUserId, clearUserConfig } from '../../lib/admin/admin';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), log: logger };

export const handler = httpRoute(async ({ pathParameters }) => ({
  status: 200,
  body: await clearUserConfig(deps, checkUserId(pathParameters.id)),
}));
