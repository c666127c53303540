/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock } from '../lib/clock';
import { deliverQueue } from '../lib/drain';
import { frameRoute } from '../lib/lambda/frame-route';
import { connectionPoster, offlineQueue } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';

const deps = { queue: offlineQueue(), poster: connectionPoster(), clock };

export const handler = frameRoute(syncFrameSchema, async (_frame, { caller }) => {
  // The `synced` reply is the route response, sent after these posts have all been accepted.
  const report = await deliverQueue(deps, caller.userId, caller.connectionId);
  return { type: 'synced', count: report.delivered };
});
