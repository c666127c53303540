/** `PATCH /v1/config`: changes the named settings; one bad key and nothing changes. */
import { changeConfig } from '../../lib/admin/admin';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), log: logger };

export const handler = httpRoute(async ({ body }) => ({ status: 200, body: await changeConfig(deps, body) }));
