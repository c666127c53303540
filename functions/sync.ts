/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock } from '../lib/clock';
import { deliverQueue, queuePolicyFor } from '../lib/drain';
import { frameRoute } from '../lib/lambda/frame-route';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';
import { countDelivery } from '../lib/stats';

const deps = { queue: offlineQueue(), poster: connectionPoster(), clock };
const settings = settingsReader();
const connections = connectionStore();
const stats = statsCounters();

export const handler = frameRoute(syncFrameSchema, async (_frame, { caller }) => {
  // The `synced` reply is the route response, sent after these posts have all been accepted.
  // What this connection's start discarded (clean start, expired session) stays discarded.
  const presence = (await connections.lookup([caller.userId], clock.now(), { consistent: true })).get(caller.userId);
  const policy = await queuePolicyFor(settings, caller.userId, presence?.discard);
  const report = await deliverQueue(deps, caller.userId, caller.connectionId, policy);
  countDelivery(stats, report);
  return { type: 'synced', count: report.delivered };
});
