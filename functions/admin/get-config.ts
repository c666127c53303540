/** `GET /v1/config`: the app's settings, defaults filled in. */
import { getConfig } from '../../lib/admin/admin';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), log: logger };

export const handler = httpRoute(async () => ({ status: 200, body: await getConfig(deps) }));
