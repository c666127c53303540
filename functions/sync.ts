/** `sync`: delivers the caller's queue again on this connection, then says how many messages it held. */
import { clock } from '../lib/clock';
import { syncQueue } from '../lib/drain';
import { frameRoute } from '../lib/lambda/frame-route';
import { connectionPoster, connectionStore, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { syncFrameSchema } from '../lib/protocol';

const deps = { queue: offlineQueue(), poster: connectionPoster(), connections: connectionStore(), settings: settingsReader(), clock };

// The `synced` reply is the route response, sent after the queue's posts have all been accepted.
export const handler = frameRoute(syncFrameSchema, async (_frame, { caller }) => ({ type: 'synced', count: await syncQueue(deps, caller) }));
