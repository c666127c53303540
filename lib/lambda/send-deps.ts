/**
 * What a `send` needs, for both functions that send as a user: the WebSocket route, and `POST
 * /v1/messages`, which serves no chatrooms (their members are connections), so has no room table,
 * and is not held to a user's send rate: the app's backend holds the admin key, and the admin API has
 * throttles of its own.
 */
import { clock } from '../clock';
import { messageIdFactory } from '../sending/message-ids';
import type { SendDeps } from '../sending/send-message';
import type { StatsCounters } from '../admin/stats';
import { logger } from './logger';
import {
  connectionPoster,
  connectionPushes,
  fanOutQueue,
  groupStore,
  historyStore,
  offlineEventBus,
  offlineQueue,
  recentConversationStore,
  roomStore,
  sendRateLimiter,
  sendReceipts,
  settingsReader,
} from './stores';

export function sendDeps(stats: StatsCounters, options: { asClient: boolean }): SendDeps {
  return {
    queue: offlineQueue(),
    receipts: sendReceipts(),
    settings: settingsReader(),
    connections: connectionPushes(),
    poster: connectionPoster(),
    history: historyStore(),
    recent: recentConversationStore(),
    groups: groupStore(),
    rooms: options.asClient ? roomStore() : undefined,
    rate: options.asClient ? sendRateLimiter() : undefined,
    jobs: fanOutQueue(),
    events: offlineEventBus(),
    clock,
    newId: messageIdFactory(),
    log: logger,
    stats,
  };
}
