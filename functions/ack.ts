/** `ack`: acknowledges messages for all of the caller's devices, by ids or, after a drain, by bound. */
import { acknowledgeFrame } from '../lib/delivery/ordering';
import { frameRoute } from '../lib/lambda/frame-route';
import { statsCounters } from '../lib/lambda/stats';
import { connectionStore, offlineQueue } from '../lib/lambda/stores';
import { ackFrameSchema } from '../lib/protocol';

const deps = { queue: offlineQueue(), connections: connectionStore() };
const stats = statsCounters();

export const handler = frameRoute(ackFrameSchema, async (frame, { caller }) => {
  const reply = await acknowledgeFrame(deps, caller, frame);
  if (reply.type === 'acked') stats.add('messagesAcked', reply.ids.length);
  return reply;
});
