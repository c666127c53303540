/** `ack`: removes the acked messages from the caller's queue, for all of the caller's devices. */
import { frameRoute } from '../lib/lambda/frame-route';
import { offlineQueue } from '../lib/lambda/stores';
import { acknowledge } from '../lib/offline-queue';
import { ackFrameSchema } from '../lib/protocol';

const queue = offlineQueue();

export const handler = frameRoute(ackFrameSchema, async (frame, { caller }) => ({
  type: 'acked',
  ids: await acknowledge(queue, caller.userId, frame.ids),
}));
