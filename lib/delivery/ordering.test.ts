/**
 * The ordering protocol (ordering.ts), both sides: pushes that meet a connection still draining or
 * not yet open, and the drain that delivers the queue meanwhile. Against scripted ports, so that every
 * answer API Gateway and the connection record can give is met; the same rules against DynamoDB Local
 * and the emulator are in test/integration/connection-store.test.ts and test/e2e/aws-timing.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionStore } from '../connecting/connections';
import { deliverQueue } from './deliver-queue';
import { drainOnConnect, openWaitMs, pushFrames, type DrainDeps, type DrainStates, type PushDeps } from './ordering';
import type { ConnectionPoster } from './poster';
import { clock, memoryQueue, message, now, policy } from '../../test/support/queue-fixtures';

/** A poster that answers from a script: 'gone', 'delivered' or a thrown 'error' per call, then 'delivered'. */
function scriptedPoster(
  script: Array<'gone' | 'delivered' | 'error'> = [],
): ConnectionPoster & { posted: Array<Record<string, unknown>>; closed: string[]; probes: number } {
  const posted: Array<Record<string, unknown>> = [];
  const closed: string[] = [];
  const answer = () => {
    const next = script.shift() ?? 'delivered';
    if (next === 'error') throw new Error('500 from @connections');
    return next;
  };
  return {
    posted,
    closed,
    probes: 0,
    async post(_connectionId, data) {
      const next = answer();
      if (next === 'delivered') posted.push(JSON.parse(data) as Record<string, unknown>);
      return next;
    },
    async isOpen() {
      this.probes += 1;
      return answer() === 'delivered';
    },
    async close(connectionId) {
      closed.push(connectionId);
      return answer() === 'delivered' ? 'closed' : 'gone';
    },
  };
}

const bodies = (posted: Array<Record<string, unknown>>) =>
  posted.filter((f) => f.type === 'messages').flatMap((f) => (f.messages as Array<{ body: unknown }>).map((m) => m.body));


function pushDeps(answer: 'gone' | 'delivered'): PushDeps & { removed: string[]; posted: string[] } {
  const removed: string[] = [];
  const posted: string[] = [];
  // Only what a push of an unstored message uses.
  const connections = {
    remove: async (_userId: string, connectionId: string) => {
      removed.push(connectionId);
      return { rooms: [] };
    },
  } as unknown as PushDeps['connections'];
  return {
    removed,
    posted,
    connections,
    poster: {
      post: async (connectionId) => {
        posted.push(connectionId);
        return answer;
      },
      isOpen: async () => answer === 'delivered',
      close: async () => 'closed' as const,
    },
    clock: { now: () => now },
    log: { warn: () => undefined },
  };
}

const pushed = (connectionId: string, draining: boolean): Connection => ({ userId: 'bob', connectionId, connectedAt: now, draining });


// The push side.

describe('a push answered 410', () => {
  it('forgets a connection that has been open a while: it is stale', async () => {
    const push = pushDeps('gone');
    const report = await pushFrames(push, [pushed('old', false)], ['{}']);
    expect(report).toMatchObject({ forgotten: 1, notOpenYet: 0 });
    expect(push.removed).toEqual(['old']);
  });

  it('leaves a connection still draining alone when what it missed is not stored for it: API Gateway answers 410 until $connect has returned', async () => {
    const push = pushDeps('gone');
    const report = await pushFrames(push, [pushed('new', true)], ['{}']);
    expect(report).toMatchObject({ forgotten: 0, notOpenYet: 1 });
    expect(push.removed).toEqual([]);
  });

  it('forgets a draining connection that missed a message stored for it: nothing later may reach it first', async () => {
    const push = pushDeps('gone');
    // Stored for bob, but his drain has finished: the message is not left to it, and the post fails.
    push.connections.leaveToDrain = async () => 'finished';
    const report = await pushFrames(push, [pushed('new', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ forgotten: 1, notOpenYet: 0 });
    expect(push.removed).toEqual(['new']);
  });

  it('posts nothing to a draining connection removed since the push looked it up: it was cut off, its socket perhaps still opening', async () => {
    const push = pushDeps('delivered');
    push.connections.leaveToDrain = async () => 'gone';
    const report = await pushFrames(push, [pushed('cut', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ forgotten: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
  });

  it('cuts off, without posting, a connection whose drain lapsed while the push looked, when the message is stored for it', async () => {
    const push = pushDeps('delivered');
    push.connections.leaveToDrain = async () => 'lapsed';
    const report = await pushFrames(push, [pushed('stalled', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ closed: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
  });

  it('cuts off, without posting, a connection whose drain lapsed, when the message is stored for it: it never had its queue', async () => {
    const push = pushDeps('delivered');
    const lapsed: Connection = { userId: 'bob', connectionId: 'stuck', connectedAt: now, drainLapsed: true };
    const report = await pushFrames(push, [lapsed], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ closed: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
    expect(push.removed).toEqual(['stuck']);
  });

  it('delivers to both when API Gateway takes the post', async () => {
    const push = pushDeps('delivered');
    expect(await pushFrames(push, [pushed('old', false), pushed('new', true)], ['{}'])).toMatchObject({ delivered: 2 });
    expect(push.posted.sort()).toEqual(['new', 'old']);
  });
});

// The drain side.

describe('deliverQueue', () => {
  it('announces drops first, then delivers the rest in order, removing what was dropped', async () => {
    const messages = Array.from({ length: 8 }, (_, i) => message(i));
    const queue = memoryQueue(messages);
    const poster = scriptedPoster();
    const report = await deliverQueue({ queue, poster, clock }, 'b', 'c1', policy({ maxOfflineMessages: 5 }));
    expect(poster.posted[0]).toEqual({ type: 'dropped', count: 3, reason: 'overflow' });
    expect(bodies(poster.posted)).toEqual([3, 4, 5, 6, 7]);
    expect(queue.removed).toEqual(messages.slice(0, 3).map((m) => m.id));
    expect(report).toMatchObject({ delivered: 5, dropped: [{ reason: 'overflow', count: 3 }], connectionGone: false });
  });

  it('stops when the connection goes away, counting only what went out', async () => {
    const big = (n: number) => message('z'.repeat(20_000 + n));
    const poster = scriptedPoster(['delivered', 'gone']);
    const report = await deliverQueue({ queue: memoryQueue([big(1), big(2), big(3)]), poster, clock }, 'b', 'c1', policy());
    expect(report).toMatchObject({ delivered: 1, frames: 1, connectionGone: true });
  });
});

function connectionsWith(recorded: () => boolean, events: string[] = []): ConnectionStore & DrainStates {
  return {
    add: async () => ({ before: undefined, replaced: [] }),
    setDiscard: async () => undefined,
    leaveToDrain: async () => 'left' as const,
    wasReplaced: async () => false,
    claimDrain: async () => ({ state: 'claimed' as const }),
    acknowledgeUpTo: async () => undefined,
    reopenAcks: async () => undefined,
    extendDrain: async () => true,
    finishDrain: async (_userId, _connectionId, handled) => {
      events.push(`finishDrain ${handled}`);
      return { done: true };
    },
    remove: async (_userId, connectionId) => {
      events.push(`remove ${connectionId}`);
      return { joinedRooms: false };
    },
    addRoom: async () => true,
    lookup: async () =>
      new Map(recorded() ? [['b', { userId: 'b', connections: [{ userId: 'b', connectionId: 'c1', connectedAt: now } as Connection] }]] : []),
  };
}

function deps(overrides: Partial<DrainDeps>): DrainDeps & { slept: number[] } {
  const slept: number[] = [];
  return {
    queue: memoryQueue([message(1), message(2), message(3)]),
    poster: scriptedPoster(),
    connections: connectionsWith(() => true),
    clock,
    sleep: async (ms) => void slept.push(ms),
    log: { warn: () => undefined },
    slept,
    ...overrides,
  };
}

describe('drainOnConnect', () => {
  const request = { userId: 'b', connectionId: 'c1' };

  it('retries the first post, with growing waits, while API Gateway says 410 before $connect returns', async () => {
    const poster = scriptedPoster(['gone', 'gone', 'gone']);
    const d = deps({ poster });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 3, frames: 1, connectionGone: false });
    expect(d.slept).toEqual([25, 50, 100]);
  });

  it('gives up at once when the connection is no longer recorded, and closes it once API Gateway lets it', async () => {
    // 410 to the post, then to the close: the socket may still be opening, with no record left to push to.
    const poster = scriptedPoster(['gone', 'gone']);
    const d = deps({ poster, connections: connectionsWith(() => false) });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 0, connectionGone: true });
    expect(d.slept).toEqual([25]);
    expect(poster.closed).toEqual(['c1', 'c1']);
  });

  it('closes a connection cut off before its drain came, once API Gateway lets it: it must not open unnoticed', async () => {
    const poster = scriptedPoster(['gone', 'gone']);
    const connections = { ...connectionsWith(() => false), claimDrain: async () => ({ state: 'gone' as const }) };
    const d = deps({ poster, connections });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 0, connectionGone: true });
    expect(poster.posted).toEqual([]);
    expect(poster.closed).toEqual(['c1', 'c1', 'c1']);
    expect(d.slept).toEqual([25, 50]);
  });

  it('closes a connection forgotten while its drain ran, telling it first when a newer one replaced it', async () => {
    for (const replaced of [false, true]) {
      const poster = scriptedPoster();
      const connections = {
        ...connectionsWith(() => true),
        finishDrain: async () => ({ done: true, gone: true }) as const,
        wasReplaced: async () => replaced,
      };
      const d = deps({ poster, connections });
      // Its queue went out, but nothing will ever be pushed to it: it must not stay open, unnoticed.
      expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 3, connectionGone: true });
      expect(poster.posted.slice(1)).toEqual(replaced ? [{ type: 'closing', reason: 'replaced' }] : []);
      expect(poster.closed).toEqual(['c1']);
    }
    // Closed by its client meanwhile (the close answers 410): its socket was open a moment ago, so the
    // drain does not wait for it to open.
    const poster = scriptedPoster(['delivered', 'gone']);
    const d = deps({ poster, connections: { ...connectionsWith(() => true), finishDrain: async () => ({ done: true, gone: true }) as const } });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ connectionGone: true });
    expect(d.slept).toEqual([]);
  });

  it('gives up after waiting its limit for the connection to open', async () => {
    const d = deps({ poster: scriptedPoster(Array(100).fill('gone')) });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 0, connectionGone: true });
    // Its limit for posting, then as long again for closing it, should it open after all.
    const waited = d.slept.reduce((sum, ms) => sum + ms, 0);
    expect(waited).toBeGreaterThanOrEqual(2 * openWaitMs);
    expect(waited).toBeLessThan(2 * (openWaitMs + 1000));
  });

  it('does not finish until it has delivered, in order, every message left to it meanwhile', async () => {
    const messages = [message(1), message(2), message(3)];
    const poster = scriptedPoster();
    const events: string[] = [];
    const connections = connectionsWith(() => true, events);
    // While the first pass ran, one sender's push left message 2, which the first pass had already
    // sent, and another's left message 4: the smallest id left is message 2's, and two were left.
    const late = message(4);
    connections.finishDrain = async (_userId, _connectionId, handled) => {
      events.push(`finishDrain ${handled}`);
      if (handled === 0) messages.push(late);
      return handled === 2 ? { done: true } : { done: false, leftCount: 2, leftFrom: messages[1]!.id };
    };
    const d = deps({ poster, queue: memoryQueue(messages), connections });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 4, frames: 2, connectionGone: false });
    expect(bodies(poster.posted)).toEqual([1, 2, 3, 4]);
    expect(events).toEqual(['finishDrain 0', 'finishDrain 2']);
  });

  it('cuts the connection off when a post fails, so that it reconnects and drains again', async () => {
    const poster = scriptedPoster(['error']);
    const events: string[] = [];
    const d = deps({ poster, connections: connectionsWith(() => true, events) });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ delivered: 0, connectionGone: true });
    expect(poster.closed).toEqual(['c1']);
    expect(events).toEqual(['remove c1']);
  });

  it('posts nothing when the queue is empty, but does not finish before the socket is open', async () => {
    const poster = scriptedPoster(['gone', 'gone']);
    const events: string[] = [];
    const d = deps({ poster, queue: memoryQueue([]), connections: connectionsWith(() => true, events) });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toEqual({ delivered: 0, frames: 0, dropped: [], expiredSkipped: 0, connectionGone: false });
    expect(poster.posted).toEqual([]);
    // Asked twice while API Gateway still said 410, a third time when it was open; only then finished.
    expect(poster.probes).toBe(3);
    expect(d.slept).toEqual([25, 50]);
    expect(events).toEqual(['finishDrain 0']);
  });

  it('exits at once, sending nothing, when another invocation of the same drain has it: a repeated event', async () => {
    const poster = scriptedPoster();
    const events: string[] = [];
    const connections = { ...connectionsWith(() => true, events), claimDrain: async () => ({ state: 'taken' as const }) };
    const d = deps({ poster, connections });
    expect(await drainOnConnect(d, request, policy(), 'drainer-2')).toMatchObject({ delivered: 0, connectionGone: false });
    expect(poster.posted).toEqual([]);
    expect(events).toEqual([]);
  });

  it('closes the connection, sending nothing, when its drain event came after the window: pushes went ahead of its queue', async () => {
    const poster = scriptedPoster();
    const events: string[] = [];
    const connections = { ...connectionsWith(() => true, events), claimDrain: async () => ({ state: 'missed' as const }) };
    const d = deps({ poster, connections });
    expect(await drainOnConnect(d, request, policy(), 'late')).toMatchObject({ delivered: 0, connectionGone: true });
    expect(poster.posted).toEqual([]);
    expect(poster.closed).toEqual(['c1']);
    expect(events).toEqual(['remove c1']);
  });

  it('renews its window while it runs, and cuts the connection off if it lost it', async () => {
    let at = now.getTime();
    const moving = { now: () => new Date(at) };
    const events: string[] = [];
    const connections = {
      ...connectionsWith(() => true, events),
      extendDrain: async () => {
        events.push('extendDrain');
        return events.filter((e) => e === 'extendDrain').length < 2;
      },
    };
    const queue = memoryQueue([message(1), message(2)], 1);
    const poster = scriptedPoster();
    // Each post takes 20 s of the clock: the window (30 s) is renewed once, then found lost.
    const slow = { ...poster, post: async (id: string, data: string) => ((at += 20_000), poster.post(id, data)) };
    const d = deps({ poster: slow, queue, connections, clock: moving, frameMaxBytes: 1 });
    expect(await drainOnConnect(d, request, policy(), 'drainer-1')).toMatchObject({ connectionGone: true });
    expect(events).toEqual(['extendDrain', 'extendDrain', 'remove c1']);
  });
});
