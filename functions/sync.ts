/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock, sleep } from '../lib/clock';
import { syncQueue } from '../lib/delivery/ordering';
import { frameRoute } from '../lib/lambda/frame-route';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';

const deps = {
  queue: offlineQueue(),
  poster: connectionPoster(),
  connections: connectionStore(),
  settings: settingsReader(),
  clock,
  sleep,
  stats: statsCounters(),
};

export const handler = frameRoute(syncFrameSchema, (_frame, { caller }) => syncQueue(deps, caller));
