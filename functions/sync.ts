/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock } from '../lib/clock';
import { deliverQueue, queuePolicyFor } from '../lib/drain';
import { frameRoute } from '../lib/lambda/frame-route';
import { connectionPoster, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';

const deps = { queue: offlineQueue(), poster: connectionPoster(), clock };
const settings = settingsReader();

export const handler = frameRoute(syncFrameSchema, async (_frame, { caller }) => {
  // The `synced` reply is the route response, sent after these posts have all been accepted.
  const policy = await queuePolicyFor(settings, caller.userId);
  const report = await deliverQueue(deps, caller.userId, caller.connectionId, policy);
  return { type: 'synced', count: report.delivered };
});
