/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock, sleep } from '../lib/clock';
import { frameRoute } from '../lib/lambda/frame-route';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';
import { countDelivery } from '../lib/admin/stats';
import { syncQueue } from '../lib/delivery/ordering';

const deps = { queue: offlineQueue(), poster: connectionPoster(), connections: connectionStore(), settings: settingsReader(), clock, sleep };
const stats = statsCounters();

export const handler = frameRoute(syncFrameSchema, async (_frame, { caller }) => {
  // The `synced` reply is the route response, sent after the queue's posts have all been accepted.
  const report = await syncQueue(deps, caller);
  countDelivery(stats, report);
  return { type: 'synced', count: report.delivered };
});
