/** `POST /v1/messages/system`: a system message to a list of users, stored offline like a private one. */
import { clock } from '../../lib/clock';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { statsCounters } from '../../lib/lambda/stats';
import { connectionPoster, connectionStore, fanOutQueue, offlineEventBus, offlineQueue, sendReceipts, settingsReader } from '../../lib/lambda/stores';
import { countedOutcome } from '../../lib/admin/stats';
import { messageIdFactory } from '../../lib/sending/message-ids';
import { sendSystemMessage } from '../../lib/sending/system-messages';

const deps = {
  queue: offlineQueue(),
  receipts: sendReceipts(),
  settings: settingsReader(),
  connections: connectionStore(),
  poster: connectionPoster(),
  jobs: fanOutQueue(),
  events: offlineEventBus(),
  stats: statsCounters(),
  clock,
  newId: messageIdFactory(),
  log: logger,
};

export const handler = httpRoute(async ({ body }) => {
  // The copies stored are counted where they are stored (the fan-out, here and in the worker).
  const sent = await countedOutcome(deps.stats, () => sendSystemMessage(deps, body), (result) => result.status);
  return { status: 202, body: sent };
});
