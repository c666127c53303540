/** `ack`: removes the acked messages from the caller's queue, for all of the caller's devices. */
import { frameRoute } from '../lib/lambda/frame-route';
import { statsCounters } from '../lib/lambda/stats';
import { offlineQueue } from '../lib/lambda/stores';
import { acknowledge } from '../lib/delivery/offline-queue';
import { ackFrameSchema } from '../lib/protocol';

const queue = offlineQueue();
const stats = statsCounters();

export const handler = frameRoute(ackFrameSchema, async (frame, { caller }) => {
  const ids = await acknowledge(queue, caller.userId, frame.ids);
  stats.add('messagesAcked', ids.length);
  return { type: 'acked', ids };
});
