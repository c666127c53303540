/**
 * Delivering a user's queue to one connection: on connect, without being asked, and on `sync`.
 */
import type { Clock } from './clock';
import { connectionsOf, type ConnectionStore } from './connections';
import { FramePacker, type ConnectionPoster } from './delivery';
import { isDeliverable, toWireMessage, type OfflineQueue } from './offline-queue';

export interface DeliverDeps {
  queue: OfflineQueue;
  poster: ConnectionPoster;
  clock: Clock;
}

export interface DeliveryReport {
  delivered: number;
  frames: number;
  /** The connection went away part way; what was not delivered stays queued. */
  connectionGone: boolean;
}

/**
 * Posts every deliverable message of the user's queue to the connection, oldest first, packed into
 * frames of up to 32 KB. The queue is read a page at a time, so a queue of any length drains.
 */
export async function deliverQueue(deps: DeliverDeps, userId: string, connectionId: string): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, frames: 0, connectionGone: false };
  const packer = new FramePacker();
  let pending = 0;
  const send = async (frame: string | undefined): Promise<boolean> => {
    if (frame === undefined) return true;
    if ((await deps.poster.post(connectionId, frame)) === 'gone') {
      report.connectionGone = true;
      return false;
    }
    report.frames += 1;
    // Every message but those still in the packer's open frame has now gone out.
    report.delivered += pending;
    pending = 0;
    return true;
  };

  const now = deps.clock.now();
  for await (const page of deps.queue.pages(userId)) {
    for (const message of page) {
      if (!isDeliverable(message, now)) continue;
      const closed = packer.add(JSON.stringify(toWireMessage(message)));
      if (!(await send(closed))) return report;
      pending += 1;
    }
  }
  await send(packer.flush());
  return report;
}

export interface DrainRequest {
  userId: string;
  connectionId: string;
}

export interface DrainDeps extends DeliverDeps {
  connections: ConnectionStore;
  sleep: (ms: number) => Promise<void>;
}

/** How long a drain waits for API Gateway to open the connection: its first post waits this long at most. */
export const openWaitMs = 10_000;

/**
 * Delivers the queue to a connection that is still opening. API Gateway refuses posts with 410 until
 * `$connect` has returned, and the drain starts while it runs; so a 410 on the first post means "not yet"
 * as long as the connection is still recorded, and the post is tried again with backoff.
 */
export async function drainOnConnect(deps: DrainDeps, request: DrainRequest): Promise<DeliveryReport> {
  return deliverQueue({ ...deps, poster: postWhenOpen(deps, request) }, request.userId, request.connectionId);
}

function postWhenOpen(deps: DrainDeps, request: DrainRequest): ConnectionPoster {
  let open = false;
  return {
    async post(connectionId, data) {
      if (open) return deps.poster.post(connectionId, data);
      let waited = 0;
      for (let attempt = 0; ; attempt += 1) {
        if ((await deps.poster.post(connectionId, data)) === 'delivered') {
          open = true;
          return 'delivered';
        }
        const stillRecorded = (await connectionsOf(deps.connections, request.userId, deps.clock.now())).some(
          (connection) => connection.connectionId === request.connectionId,
        );
        if (!stillRecorded || waited >= openWaitMs) return 'gone';
        const delay = Math.min(25 * 2 ** attempt, 1000);
        await deps.sleep(delay);
        waited += delay;
      }
    },
  };
}
