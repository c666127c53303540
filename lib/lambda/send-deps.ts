/**
 * What a `send` needs, for both functions that send as a user: the WebSocket route, and `POST
 * /v1/messages`, which serves no chatrooms (their members are connections), so has no room table.
 */
import { clock } from '../clock';
import { messageIdFactory } from '../message-ids';
import type { SendDeps } from '../send-message';
import type { StatsCounters } from '../stats';
import { logger } from './logger';
import {
  connectionPoster,
  connectionStore,
  fanOutQueue,
  groupStore,
  historyStore,
  offlineEventBus,
  offlineQueue,
  recentConversationStore,
  roomStore,
  sendReceipts,
  settingsReader,
} from './stores';

export function sendDeps(stats: StatsCounters, options: { chatrooms: boolean }): SendDeps {
  return {
    queue: offlineQueue(),
    receipts: sendReceipts(),
    settings: settingsReader(),
    connections: connectionStore(),
    poster: connectionPoster(),
    history: historyStore(),
    recent: recentConversationStore(),
    groups: groupStore(),
    rooms: options.chatrooms ? roomStore() : undefined,
    jobs: fanOutQueue(),
    events: offlineEventBus(),
    clock,
    newId: messageIdFactory(),
    log: logger,
    stats,
  };
}
