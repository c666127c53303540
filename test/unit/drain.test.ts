import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionStore } from '../../lib/connections';
import type { ConnectionPoster } from '../../lib/delivery';
import { deliverQueue, drainOnConnect, openWaitMs, type DrainDeps } from '../../lib/drain';
import type { OfflineQueue, QueuedMessage } from '../../lib/offline-queue';

const now = new Date('2030-01-15T10:00:00Z');
const clock = { now: () => now };

function queueOf(messages: QueuedMessage[], pageSize = 2): OfflineQueue {
  return {
    put: async () => undefined,
    remove: async () => false,
    async *pages() {
      for (let i = 0; i < messages.length; i += pageSize) yield messages.slice(i, i + pageSize);
    },
  };
}

function message(n: number, expiresAt = new Date('2030-01-16T00:00:00Z')): QueuedMessage {
  return { id: `0${n}`.padStart(26, '0'), type: 'private', from: 'a', to: 'b', bodyJson: JSON.stringify(n), sentAt: now, expiresAt, qos: 1 };
}

/** A poster that answers from a script: 'gone' or 'delivered' per call, then 'delivered'. */
function scriptedPoster(script: Array<'gone' | 'delivered'>): ConnectionPoster & { posted: string[] } {
  const posted: string[] = [];
  return {
    posted,
    async post(_connectionId, data) {
      const answer = script.shift() ?? 'delivered';
      if (answer === 'delivered') posted.push(data);
      return answer;
    },
  };
}

function connectionsWith(recorded: () => boolean): ConnectionStore {
  return {
    add: async () => undefined,
    remove: async () => undefined,
    listByUsers: async (userIds) =>
      new Map(recorded() ? [[userIds[0] ?? '', [{ userId: 'b', connectionId: 'c1', connectedAt: now } as Connection]]] : []),
  };
}

function deps(overrides: Partial<DrainDeps>): DrainDeps & { slept: number[] } {
  const slept: number[] = [];
  return {
    queue: queueOf([message(1), message(2), message(3)]),
    poster: scriptedPoster([]),
    connections: connectionsWith(() => true),
    clock,
    sleep: async (ms) => void slept.push(ms),
    slept,
    ...overrides,
  };
}

const bodies = (posted: string[]) => posted.flatMap((frame) => (JSON.parse(frame) as { messages: Array<{ body: unknown }> }).messages.map((m) => m.body));

describe('deliverQueue', () => {
  it('delivers every page, skipping what has expired', async () => {
    const poster = scriptedPoster([]);
    const queue = queueOf([message(1), message(2, new Date('2030-01-15T09:00:00Z')), message(3)]);
    const report = await deliverQueue({ queue, poster, clock }, 'b', 'c1');
    expect(report).toEqual({ delivered: 2, frames: 1, connectionGone: false });
    expect(bodies(poster.posted)).toEqual([1, 3]);
  });

  it('stops when the connection goes away, counting only what went out', async () => {
    const poster = scriptedPoster(['delivered', 'gone']);
    const big = (n: number) => ({ ...message(n), bodyJson: JSON.stringify('z'.repeat(20_000)) });
    const report = await deliverQueue({ queue: queueOf([big(1), big(2), big(3)]), poster, clock }, 'b', 'c1');
    expect(report).toEqual({ delivered: 1, frames: 1, connectionGone: true });
  });
});

describe('drainOnConnect', () => {
  it('retries the first post, with growing waits, while API Gateway says 410 before $connect returns', async () => {
    const poster = scriptedPoster(['gone', 'gone', 'gone']);
    const d = deps({ poster });
    const report = await drainOnConnect(d, { userId: 'b', connectionId: 'c1' });
    expect(report).toEqual({ delivered: 3, frames: 1, connectionGone: false });
    expect(d.slept).toEqual([25, 50, 100]);
  });

  it('gives up at once when the connection is no longer recorded: it closed', async () => {
    const d = deps({ poster: scriptedPoster(['gone', 'gone']), connections: connectionsWith(() => false) });
    expect(await drainOnConnect(d, { userId: 'b', connectionId: 'c1' })).toMatchObject({ delivered: 0, connectionGone: true });
    expect(d.slept).toEqual([]);
  });

  it('gives up after waiting its limit for the connection to open', async () => {
    const d = deps({ poster: scriptedPoster(Array(100).fill('gone')) });
    expect(await drainOnConnect(d, { userId: 'b', connectionId: 'c1' })).toMatchObject({ delivered: 0, connectionGone: true });
    const waited = d.slept.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(openWaitMs);
    expect(waited).toBeLessThan(openWaitMs + 1000);
  });

  it('does not wait at all when the queue is empty', async () => {
    const poster = scriptedPoster(['gone']);
    const d = deps({ poster, queue: queueOf([]) });
    expect(await drainOnConnect(d, { userId: 'b', connectionId: 'c1' })).toEqual({ delivered: 0, frames: 0, connectionGone: false });
    expect(poster.posted).toEqual([]);
  });
});
