/** `send`: stores a qos-1 message for its recipient before replying `accepted`, then pushes it. */
import { clock } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { logger } from '../lib/lambda/logger';
import { connectionPoster, connectionStore, offlineQueue, sendReceipts, settingsReader } from '../lib/lambda/stores';
import { messageIdFactory } from '../lib/message-ids';
import { sendFrameSchema } from '../lib/protocol';
import { sendMessage, type SendDeps } from '../lib/send-message';

const deps: SendDeps = {
  queue: offlineQueue(),
  receipts: sendReceipts(),
  settings: settingsReader(),
  connections: connectionStore(),
  poster: connectionPoster(),
  clock,
  newId: messageIdFactory(),
  log: logger,
};

export const handler = frameRoute(sendFrameSchema, (frame, { caller }) => sendMessage(deps, caller, frame));
