/**
 * Putting offline events on the bus (lib/events/offline-events, lib/aws/event-bridge-bus) with the real
 * EventBridge adapter, against the local bus that stands in for EventBridge: batches of 10, entries
 * refused and put again, a bus that does not answer, and what reaches the webhook.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventBridgeOfflineEvents } from '../../lib/aws/event-bridge-bus';
import { InMemoryStats } from '../../lib/admin/stats';
import { concurrentPuts, emitDeadlineMs, emitOfflineEvents, type OfflineMessageStored } from '../../lib/events/offline-events';
import { LocalEventBus } from '../../local/event-bus';
import { EventReceiver } from '../support/event-receiver';

let bus: LocalEventBus;
let receiver: EventReceiver;
let client: EventBridgeClient;

beforeAll(async () => {
  bus = new LocalEventBus('127.0.0.1', 'test-bus', { maxAttempts: 2, firstRetryMs: 10 });
  await bus.listen();
  receiver = await EventReceiver.start();
  bus.target = { url: receiver.url, secret: receiver.secret };
  // The SDK's client, to show the local bus refuses what EventBridge refuses; the adapter signs with
  // the environment's credentials, as on Lambda.
  client = new EventBridgeClient({ endpoint: bus.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'l', AWS_SECRET_ACCESS_KEY: 'l' });
});
afterAll(async () => {
  client?.destroy();
  await bus?.stop();
  await receiver?.stop();
});
afterEach(() => {
  bus.refuseEntry = undefined;
  bus.puts.length = 0;
});

const event = (n: number, messageId = `m${n}`): OfflineMessageStored => ({
  userId: `user-${n}`,
  messageId,
  type: 'private',
  from: 'alice',
  target: `user-${n}`,
  sentAt: '2026-12-01T12:00:00.000Z',
  expiresAt: '2026-12-08T12:00:00.000Z',
});

/** Generous, unless a test is about the deadline: a loaded machine must not fail a put that is only slow. */
function deps(busName = 'test-bus', roundDeadlineMs = 10_000) {
  const stats = new InMemoryStats();
  const warnings: Array<[string, Record<string, unknown>]> = [];
  return {
    stats,
    warnings,
    deps: { events: new EventBridgeOfflineEvents(busName, roundDeadlineMs, bus.endpoint), stats, log: { warn: (message: string, details: Record<string, unknown>) => void warnings.push([message, details]) } },
  };
}

describe('putting offline events', () => {
  it('puts them 10 to a request, each as source pigeonhole, detail-type OfflineMessageStored, and the bus POSTs each detail, signed', async () => {
    const { deps: d, stats } = deps();
    const events = Array.from({ length: 23 }, (_, n) => event(n, `batch-${n}`));
    await emitOfflineEvents(d, events);
    expect(bus.puts).toEqual([10, 10, 3]);
    expect((await stats.read()).offlineEvents).toEqual({ emitted: 23, failed: 0 });
    await receiver.until((received) => received.filter((r) => r.event.messageId.startsWith('batch-')).length === 23);
    const bodies = receiver.received.filter((r) => r.event.messageId.startsWith('batch-'));
    expect(bodies.every((r) => r.verified)).toBe(true);
    expect(bodies.map((r) => JSON.parse(r.body))).toEqual(expect.arrayContaining(events));
  });

  it('puts 251 events in 26 requests, none over 10', async () => {
    const { deps: d, stats } = deps();
    const events = Array.from({ length: 10 * concurrentPuts + 1 }, (_, n) => event(n, `round-${n}`));
    await emitOfflineEvents(d, events);
    expect(bus.puts).toHaveLength(concurrentPuts + 1);
    expect((await stats.read()).offlineEvents).toEqual({ emitted: 251, failed: 0 });
  });

  it('puts what the bus refused once more; what it refuses again is counted failed and logged, never thrown', async () => {
    const { deps: d, stats, warnings } = deps();
    const refusedTimes = new Map<string, number>();
    bus.refuseEntry = (detail) => {
      const { messageId } = JSON.parse(detail) as OfflineMessageStored;
      const times = (refusedTimes.get(messageId) ?? 0) + 1;
      refusedTimes.set(messageId, times);
      // m1 is refused once, m2 always; the rest go through.
      return messageId === 'refused-2' || (messageId === 'refused-1' && times === 1) ? 'InternalFailure' : undefined;
    };
    await emitOfflineEvents(d, [event(0, 'refused-0'), event(1, 'refused-1'), event(2, 'refused-2')]);
    expect(bus.puts).toEqual([3, 2]);
    expect((await stats.read()).offlineEvents).toEqual({ emitted: 2, failed: 1 });
    expect(warnings).toEqual([['offline events dropped: the bus did not take them in time', expect.objectContaining({ count: 1, messageIds: ['refused-2'] })]]);
  });

  it('gives up on a bus that does not answer within the deadline, and says so', async () => {
    const { deps: d, stats, warnings } = deps('test-bus', emitDeadlineMs);
    const release = bus.hold();
    try {
      await emitOfflineEvents(d, [event(0, 'held')]);
    } finally {
      release();
    }
    expect((await stats.read()).offlineEvents).toEqual({ emitted: 0, failed: 1 });
    expect(warnings[0]?.[1]).toMatchObject({ count: 1, deadlineMs: emitDeadlineMs, error: expect.objectContaining({ name: 'AbortError' }) });
  });

  it('counts events for a bus that does not exist as failed', async () => {
    const { deps: d, stats } = deps('no-such-bus');
    await emitOfflineEvents(d, [event(0, 'nowhere')]);
    expect((await stats.read()).offlineEvents).toEqual({ emitted: 0, failed: 1 });
  });
});

describe('the local bus', () => {
  it('refuses more than 10 entries a request, as EventBridge does', async () => {
    const entries = Array.from({ length: 11 }, () => ({ EventBusName: 'test-bus', Source: 's', DetailType: 'd', Detail: '{}' }));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('tries a failing receiver again, then drops the event', async () => {
    receiver.answer = (e) => (e.messageId === 'always-500' ? 500 : 204);
    const dropped = new Promise((resolve) => bus.events.once('undeliverable', resolve));
    const { deps: d } = deps();
    await emitOfflineEvents(d, [event(0, 'always-500')]);
    expect(await dropped).toMatchObject({ attempts: 2, lastStatus: 500 });
    expect(receiver.eventsFor('always-500').map((r) => r.status)).toEqual([500, 500]);
    receiver.answer = () => 204;
  });
});
