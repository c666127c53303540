import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionStore } from '../../lib/connecting/connections';
import type { ConnectionPoster } from '../../lib/delivery/push';
import { deliverQueue, drainOnConnect, openWaitMs, QueuePlan, type DrainDeps, type QueuePolicy } from '../../lib/delivery/drain';
import type { OfflineQueue, QueuedMessage } from '../../lib/delivery/offline-queue';
import { defaultAppSettings, type AppSettings } from '../../lib/retention/settings';

const now = new Date('2030-01-15T10:00:00Z');
const clock = { now: () => now };
const policy = (app: Partial<AppSettings> = {}, extra: Partial<QueuePolicy> = {}): QueuePolicy => ({
  app: { ...defaultAppSettings, ...app },
  user: undefined,
  ...extra,
});

function memoryQueue(messages: QueuedMessage[], pageSize = 2): OfflineQueue & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    put: async () => undefined,
    get: async (_userId, id) => messages.find((m) => m.id === id),
    putMany: async () => undefined,
    remove: async () => false,
    removeMany: async (_userId, ids) => void removed.push(...ids),
    removeGroupMessages: async () => 0,
    async *pages(_userId, start) {
      const span = start === undefined ? [...messages] : messages.filter((m) => m.id >= start);
      for (let i = 0; i < span.length; i += pageSize) yield span.slice(i, i + pageSize);
    },
  };
}

let sequence = 0;
function message(body: unknown, options: Partial<QueuedMessage> = {}): QueuedMessage {
  sequence += 1;
  return {
    id: `01J${String(sequence).padStart(23, '0')}`,
    type: 'private',
    from: 'a',
    to: 'b',
    bodyJson: JSON.stringify(body),
    sentAt: new Date('2030-01-15T09:00:00Z'),
    expiresAt: new Date('2030-01-20T00:00:00Z'),
    qos: 1,
    ...options,
  };
}

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

describe('the queue plan', () => {
  function judge(messages: QueuedMessage[], queuePolicy: QueuePolicy) {
    const plan = new QueuePlan(queuePolicy, now);
    for (const m of messages) plan.observe(m);
    plan.finish();
    return { verdicts: messages.map((m) => plan.judge(m)), dropped: plan.dropped() };
  }

  it('delivers everything when nothing is expired or over a cap', () => {
    expect(judge([message(1), message(2)], policy())).toEqual({ verdicts: ['deliver', 'deliver'], dropped: [] });
  });

  it('keeps only the newest maxOfflineMessages, dropping the oldest', () => {
    const messages = Array.from({ length: 8 }, (_, i) => message(i));
    const { verdicts, dropped } = judge(messages, policy({ maxOfflineMessages: 5 }));
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'deliver', 'deliver', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'overflow', count: 3 }]);
  });

  it('does not count expired messages against the cap', () => {
    const stale = message('old', { expiresAt: new Date('2030-01-15T09:30:00Z') });
    const { verdicts, dropped } = judge([stale, message(1), message(2)], policy({ maxOfflineMessages: 2 }));
    expect(verdicts).toEqual(['expired', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'expired', count: 1 }]);
  });

  it('hides at once what a shortened duration has expired', () => {
    const dayOld = message('a day old', { sentAt: new Date('2030-01-14T09:00:00Z') });
    expect(judge([dayOld], policy({ offlineMessageDurationDays: 1 })).verdicts).toEqual(['expired']);
    expect(judge([dayOld], policy({ offlineMessageDurationDays: 2 })).verdicts).toEqual(['deliver']);
  });

  it('applies the group cap per group first, then the user cap to what is left', () => {
    const g1 = (n: number) => message(`g1-${n}`, { type: 'group', to: 'g1' });
    const g2 = (n: number) => message(`g2-${n}`, { type: 'group', to: 'g2' });
    const messages = [g1(1), g1(2), g1(3), message('p1'), g2(1), g2(2), message('p2')];
    const { verdicts, dropped } = judge(messages, policy({ groupOfflineMaxMessages: 1, maxOfflineMessages: 3 }));
    // Groups keep their newest one each (g1-3, g2-2); then g1-3, p1, g2-2, p2 remain for a cap of 3,
    // and the oldest of those, g1-3, goes too.
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'overflow', 'deliver', 'deliver']);
    expect(dropped).toEqual([{ reason: 'overflow', count: 4 }]);
  });

  it('caps each sender before the whole queue: a flood from one sender pushes out only its own older messages', () => {
    const alice = Array.from({ length: 5 }, (_, i) => message(`alice-${i}`, { from: 'alice' }));
    const flood = Array.from({ length: 30 }, (_, i) => message(`mallory-${i}`, { from: 'mallory' }));
    const messages = [...alice, ...flood];
    const { verdicts, dropped } = judge(messages, policy({ maxOfflineMessagesPerSender: 10, maxOfflineMessages: 20 }));
    // Mallory keeps her newest 10; alice's 5 and those 10 fit the queue's 20.
    expect(verdicts.slice(0, 5)).toEqual(Array(5).fill('deliver'));
    expect(verdicts.slice(5)).toEqual([...Array(20).fill('overflow'), ...Array(10).fill('deliver')]);
    expect(dropped).toEqual([{ reason: 'overflow', count: 20 }]);
  });

  it('counts a sender’s group copies against the same sender cap, and applies the user cap to what the caps leave', () => {
    const messages = [
      message('p1', { from: 'mallory' }),
      message('g1', { from: 'mallory', type: 'group', to: 'team' }),
      message('a1', { from: 'alice' }),
      message('p2', { from: 'mallory' }),
      message('g2', { from: 'mallory', type: 'group', to: 'team' }),
      message('a2', { from: 'alice' }),
    ];
    const { verdicts } = judge(messages, policy({ maxOfflineMessagesPerSender: 2, maxOfflineMessages: 3 }));
    // Mallory's newest two are p2 and g2; of p2, g2, a1 and a2 the user cap keeps the newest three.
    expect(verdicts).toEqual(['overflow', 'overflow', 'overflow', 'deliver', 'deliver', 'deliver']);
  });

  it('does not count what the group cap dropped against the sender cap', () => {
    const messages = [
      message('p1', { from: 'mallory' }),
      message('g1', { from: 'mallory', type: 'group', to: 'team' }),
      message('g2', { from: 'mallory', type: 'group', to: 'team' }),
    ];
    const { verdicts } = judge(messages, policy({ groupOfflineMaxMessages: 1, maxOfflineMessagesPerSender: 2 }));
    // The group keeps g2; g1 is the group's overflow, so mallory's two are g2 and p1.
    expect(verdicts).toEqual(['deliver', 'overflow', 'deliver']);
  });

  it('exempts system messages from the sender cap, and has no sender cap when it is null', () => {
    const system = Array.from({ length: 4 }, (_, i) => message(`notice-${i}`, { type: 'system', from: 'system' }));
    expect(judge(system, policy({ maxOfflineMessagesPerSender: 1 })).verdicts).toEqual(Array(4).fill('deliver'));
    const many = Array.from({ length: 300 }, (_, i) => message(i, { from: 'mallory' }));
    expect(judge(many, policy({ maxOfflineMessagesPerSender: null })).dropped).toEqual([]);
    expect(judge(many, policy()).dropped).toEqual([{ reason: 'overflow', count: 100 }]);
  });

  it('judges by id, so a message that came after the plan is delivered and one gone meanwhile shifts nothing', () => {
    const messages = Array.from({ length: 4 }, (_, i) => message(i, { from: 'mallory' }));
    const plan = new QueuePlan(policy({ maxOfflineMessagesPerSender: 2 }), now);
    for (const m of messages) plan.observe(m);
    plan.finish();
    const later = message('later', { from: 'mallory' });
    expect([messages[1], messages[2], messages[3], later].map((m) => plan.judge(m as QueuedMessage))).toEqual([
      'overflow',
      'deliver',
      'deliver',
      'deliver',
    ]);
  });

  it('discards what came before a clean start, and announces it as such', () => {
    const before = message('before');
    const after = message('after');
    const { verdicts, dropped } = judge([before, after], policy({}, { discard: { beforeId: after.id, reason: 'cleanStart' } }));
    expect(verdicts).toEqual(['discard', 'deliver']);
    expect(dropped).toEqual([{ reason: 'cleanStart', count: 1 }]);
  });

  it('announces what an expired session discarded as expired', () => {
    const before = message('before');
    const stale = message('stale', { expiresAt: new Date('2030-01-15T09:30:00Z') });
    const after = message('after');
    const { dropped } = judge([before, stale, after], policy({}, { discard: { beforeId: stale.id, reason: 'expired' } }));
    expect(dropped).toEqual([{ reason: 'expired', count: 2 }]);
  });
});

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

function connectionsWith(recorded: () => boolean, events: string[] = []): ConnectionStore {
  return {
    add: async () => ({ before: undefined, replaced: [] }),
    setDiscard: async () => undefined,
    leaveToDrain: async () => 'left' as const,
    wasReplaced: async () => false,
    claimDrain: async () => 'claimed',
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
    const connections = { ...connectionsWith(() => false), claimDrain: async () => 'gone' as const };
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
    const connections = { ...connectionsWith(() => true, events), claimDrain: async () => 'taken' as const };
    const d = deps({ poster, connections });
    expect(await drainOnConnect(d, request, policy(), 'drainer-2')).toMatchObject({ delivered: 0, connectionGone: false });
    expect(poster.posted).toEqual([]);
    expect(events).toEqual([]);
  });

  it('closes the connection, sending nothing, when its drain event came after the window: pushes went ahead of its queue', async () => {
    const poster = scriptedPoster();
    const events: string[] = [];
    const connections = { ...connectionsWith(() => true, events), claimDrain: async () => 'missed' as const };
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
