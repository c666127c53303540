/** `POST /v1/messages/system`: a system message to a list of users, stored offline like a private one. */
import { clock } from '../../lib/clock';
import { inlineRecipients } from '../../lib/fan-out';
import { httpRoute } from '../../lib/lambda/http-route';
import { logger } from '../../lib/lambda/logger';
import { statsCounters } from '../../lib/lambda/stats';
import { connectionPoster, connectionStore, fanOutQueue, offlineQueue, sendReceipts, settingsReader } from '../../lib/lambda/stores';
import { messageIdFactory } from '../../lib/message-ids';
import { sendSystemMessage } from '../../lib/system-messages';

const deps = {
  queue: offlineQueue(),
  receipts: sendReceipts(),
  settings: settingsReader(),
  connections: connectionStore(),
  poster: connectionPoster(),
  jobs: fanOutQueue(),
  clock,
  newId: messageIdFactory(),
  log: logger,
};

const stats = statsCounters();

export const handler = httpRoute(async ({ body }) => {
  const sent = await sendSystemMessage(deps, body);
  if (sent.status === 'accepted') {
    stats.add('messagesAccepted', 1);
    // Past the fan-out threshold the worker stores (and counts) the rest; here, those stored at once.
    stats.add('messagesStored', Math.min(sent.recipients, inlineRecipients));
  }
  return { status: 202, body: sent };
});
