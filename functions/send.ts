/** `send`: a private, group or chatroom message; qos 1 is stored for its recipients before `accepted`. */
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { logger } from '../lib/lambda/logger';
import {
  connectionPoster,
  connectionStore,
  fanOutQueue,
  groupStore,
  historyStore,
  offlineQueue,
  recentConversationStore,
  roomStore,
  sendRateLimiter,
  sendReceipts,
  settingsReader,
} from '../lib/lambda/stores';
import { messageIdFactory } from '../lib/message-ids';
import { sendFrameSchema } from '../lib/protocol';
import { sendMessage, type SendDeps } from '../lib/send-message';
import { countSend } from '../lib/stats';
import { statsCounters } from '../lib/lambda/stats';

const stats = statsCounters();
const deps: SendDeps = {
  queue: offlineQueue(),
  receipts: sendReceipts(),
  settings: settingsReader(),
  connections: connectionStore(),
  poster: connectionPoster(),
  history: historyStore(),
  recent: recentConversationStore(),
  groups: groupStore(),
  rooms: roomStore(),
  jobs: fanOutQueue(),
  rate: sendRateLimiter(),
  clock,
  newId: messageIdFactory(),
  log: logger,
  stats,
};

export const handler = frameRoute(sendFrameSchema, async (frame, { caller }) => {
  const reply = await sendMessage(deps, caller, frame);
  countSend(stats, frame, reply);
  return reply;
});
