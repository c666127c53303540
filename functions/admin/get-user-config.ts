/** `GET /v1/users/{id}/config`: the user's own duration, and the one in force for them. */
import { checkUserId, getUserConfig } from '../../lib/admin/admin';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), log: logger };

export const handler = httpRoute(async ({ pathParameters }) => ({
  status: 200,
  body: await getUserConfig(deps, checkUserId(pathParameters.id)),
}));
