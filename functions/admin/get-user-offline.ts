/** `GET /v1/users/{id}/offline`: the user's queue as the next drain would see it. */
import { checkUserId, offlineSummary } from '../../lib/admin/admin';
import { clock } from '../../lib/clock';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { connectionStore, offlineQueue, settingsStore } from '../../lib/lambda/stores';

const deps = { settings: settingsStore(), queue: offlineQueue(), connections: connectionStore(), clock, log: logger };

export const handler = httpRoute(async ({ pathParameters }) => ({
  status: 200,
  body: await offlineSummary(deps, checkUserId(pathParameters.id)),
}));
