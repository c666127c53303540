/**
 * `OfflineMessageStored` events end to end (SPEC §12, §6 `offlineEventsEnabled`): real clients, the
 * handlers putting events through the EventBridge client to the local bus, and the bus POSTing them,
 * signed, to a real HTTP receiver on loopback.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StatsResponse } from '../../lib/admin/admin-api';
import { offlineMessagesTable } from '../../lib/tables';
import { signEvent, verifyEventSignature } from '../../local/event-bus';
import { FaultInjector } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { EventReceiver } from '../support/event-receiver';
import { startTestStack } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;
let receiver: EventReceiver;
const faults = new FaultInjector();

beforeAll(async () => {
  // Dropped events are logged as warnings: expected here, and not to be printed.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  receiver = await EventReceiver.start();
  // Three seconds a round rather than AWS's one: on a loaded test machine a put that is only slow must not be dropped.
  stack = await startTestStack({ settingsCacheSeconds: 0, faults, events: { url: receiver.url, secret: receiver.secret }, offlineEventsDeadlineMs: 3000 });
  await setEvents(true);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
});
beforeEach(() => {
  faults.clear();
  receiver.answer = () => 204;
  stack.eventBus.refuseEntry = undefined;
});

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function setEvents(enabled: boolean): Promise<void> {
  expect((await admin(stack, 'PATCH', '/config', { offlineEventsEnabled: enabled })).status).toBe(200);
}

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

async function send(client: TestClient, type: string, target: string, body: unknown = 'hi'): Promise<string> {
  const reply = await client.request({ action: 'send', type, target, clientMsgId: randomUUID(), body });
  expect(reply).toMatchObject({ type: 'sent', status: 'accepted' });
  return reply.id as string;
}

async function stats(): Promise<StatsResponse> {
  return (await admin(stack, 'GET', '/stats')).body as StatsResponse;
}

/**
 * Nothing was emitted for `messageId`: the events a send emits are on the bus before its reply (the
 * stats say none were), and a later marker's event has reached the receiver meanwhile.
 */
async function expectNoEventFor(messageId: string, emittedBefore: number, sender: TestClient): Promise<void> {
  expect((await stats()).offlineEvents.emitted).toBe(emittedBefore);
  const marker = await send(sender, 'private', id('marker'));
  await receiver.until(() => receiver.eventsFor(marker).length === 1);
  expect(receiver.eventsFor(messageId)).toEqual([]);
}

describe('a private message', () => {
  it('to a user with no open connection emits one signed event; to one online, none', async () => {
    const [alice, away, online] = [id('alice'), id('away'), id('online')];
    const [aliceClient, onlineClient] = await Promise.all([connect(alice), connect(online)]);

    const stored = await send(aliceClient, 'private', away, { text: 'wake up' });
    await receiver.until(() => receiver.eventsFor(stored).length === 1);
    const [received] = receiver.eventsFor(stored);
    expect(received?.event).toEqual({
      userId: away,
      messageId: stored,
      type: 'private',
      from: alice,
      target: away,
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    // The message is stored as the event says.
    const [item] = await itemsOf(stack, offlineMessagesTable, away);
    expect(new Date(item?.expiresAt as number * 1000).toISOString().slice(0, 19)).toBe(received?.event.expiresAt.slice(0, 19));

    const emitted = (await stats()).offlineEvents.emitted;
    const pushed = await send(aliceClient, 'private', online);
    expect((await onlineClient.messages(1))[0]?.id).toBe(pushed);
    await expectNoEventFor(pushed, emitted, aliceClient);
    await Promise.all([aliceClient.close(), onlineClient.close()]);
  });

  it('is signed: the header is HMAC-SHA256 of the exact body with the events secret, and nothing else verifies', async () => {
    const [alice, away] = [id('alice'), id('away')];
    const aliceClient = await connect(alice);
    const messageId = await send(aliceClient, 'private', away);
    await receiver.until(() => receiver.eventsFor(messageId).length === 1);
    const [received] = receiver.eventsFor(messageId);
    if (!received) throw new Error('no event');
    expect(received.verified).toBe(true);
    expect(received.signature).toBe(signEvent(receiver.secret, received.body));
    expect(received.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyEventSignature('another secret', received.body, received.signature)).toBe(false);
    expect(verifyEventSignature(receiver.secret, received.body.replace(away, id('mallory')), received.signature)).toBe(false);
    expect(verifyEventSignature(receiver.secret, received.body, undefined)).toBe(false);
    await aliceClient.close();
  });

  it('sent by the backend (POST /v1/messages) emits one too', async () => {
    const [bot, away] = [id('bot'), id('away')];
    const answer = await admin(stack, 'POST', '/messages', { from: bot, type: 'private', target: away, body: 'from the backend' });
    expect(answer.status).toBe(201);
    await receiver.until(() => receiver.eventsFor(answer.body.id).length === 1);
    expect(receiver.eventsFor(answer.body.id)[0]?.event).toMatchObject({ userId: away, from: bot, type: 'private' });
  });

  it('emits nothing while offlineEventsEnabled is false', async () => {
    const [alice, away] = [id('alice'), id('away')];
    const aliceClient = await connect(alice);
    await setEvents(false);
    try {
      const emitted = (await stats()).offlineEvents.emitted;
      const quiet = await send(aliceClient, 'private', away);
      expect(await itemsOf(stack, offlineMessagesTable, away)).toHaveLength(1);
      expect((await admin(stack, 'POST', '/messages/system', { to: [away], body: 'quiet' })).status).toBe(202);
      const groupId = id('g');
      await admin(stack, 'PUT', `/groups/${groupId}`, { members: [alice, away] });
      const groupMessage = await send(aliceClient, 'group', groupId);
      expect((await stats()).offlineEvents.emitted).toBe(emitted);
      await setEvents(true);
      await expectNoEventFor(quiet, emitted, aliceClient);
      expect(receiver.eventsFor(groupMessage)).toEqual([]);
      expect(receiver.received.filter((received) => received.event.userId === away)).toEqual([]);
    } finally {
      await setEvents(true);
      await aliceClient.close();
    }
  });
});

describe('a group message', () => {
  it('to 50 members, 10 of them online (the sender among them), emits one event for each of the 40 offline', async () => {
    const members = Array.from({ length: 50 }, (_, i) => id(`m${String(i).padStart(2, '0')}`));
    const groupId = id('fifty');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members })).status).toBe(200);
    const online = await Promise.all(members.slice(0, 10).map(connect));
    const [sender] = online;
    if (!sender) throw new Error('no sender');

    const messageId = await send(sender, 'group', groupId, { text: 'all hands' });
    await Promise.all(online.slice(1).map(async (client) => expect((await client.messages(1))[0]?.id).toBe(messageId)));
    await receiver.until(() => receiver.eventsFor(messageId).length >= 40);
    const events = receiver.eventsFor(messageId);
    expect(events.map((received) => received.event.userId).sort()).toEqual(members.slice(10).sort());
    for (const received of events) {
      expect(received.verified).toBe(true);
      expect(received.event).toMatchObject({ messageId, type: 'group', from: members[0], target: groupId });
    }
    // Nothing more comes for it: a marker sent after it arrives, and still 40.
    const marker = await send(sender, 'private', id('marker'));
    await receiver.until(() => receiver.eventsFor(marker).length === 1);
    expect(receiver.eventsFor(messageId)).toHaveLength(40);
    await Promise.all(online.map((client) => client.close()));
  });
});

describe('a system message past the inline fan-out', () => {
  it('emits for every recipient, those the fan-out worker stores included', { timeout: 90_000 }, async () => {
    const base = id('sys');
    const recipients = Array.from({ length: 1003 }, (_, i) => `${base}-${String(i).padStart(4, '0')}`);
    const settled = new Promise((resolve) => stack.fanOutJobs.events.once('settled', resolve));
    const answer = await admin(stack, 'POST', '/messages/system', { to: recipients, body: { notice: 'maintenance' } });
    expect(answer).toMatchObject({ status: 202, body: { status: 'accepted', recipients: 1003 } });
    expect(await settled).toMatchObject({ outcome: 'processed' });
    await receiver.until(() => receiver.eventsFor(answer.body.id).length >= 1003, 60_000);
    const users = receiver.eventsFor(answer.body.id).map((received) => received.event.userId);
    expect(new Set(users).size).toBe(1003);
    // The last three are past the first 1,000: the worker stored them, and emitted theirs.
    expect(users).toEqual(expect.arrayContaining(recipients.slice(1000)));
    expect(receiver.eventsFor(answer.body.id)[0]?.event).toMatchObject({ type: 'system', from: 'system' });
  });
});

describe('when emitting fails', () => {
  it('a receiver that answers 500 does not fail the send: the bus tries again, and gives up after its tries', async () => {
    const [alice, flaky, broken] = [id('alice'), id('flaky'), id('broken')];
    const aliceClient = await connect(alice);
    const tries = new Map<string, number>();
    receiver.answer = (event) => {
      const n = (tries.get(event.userId) ?? 0) + 1;
      tries.set(event.userId, n);
      if (event.userId === broken) return 500;
      return event.userId === flaky && n === 1 ? 500 : 204;
    };

    const retried = await send(aliceClient, 'private', flaky);
    await receiver.until(() => receiver.eventsFor(retried).some((received) => received.status === 204));
    expect(receiver.eventsFor(retried).map((received) => received.status)).toEqual([500, 204]);

    const givenUp = new Promise<{ attempts: number; lastStatus: number | undefined }>((resolve) =>
      stack.eventBus.events.on('undeliverable', (event) => {
        if (JSON.parse(event.detail).userId === broken) resolve(event);
      }),
    );
    const dropped = await send(aliceClient, 'private', broken);
    expect(await givenUp).toEqual(expect.objectContaining({ attempts: 5, lastStatus: 500 }));
    expect(receiver.eventsFor(dropped)).toHaveLength(5);
    // The message itself is stored, and delivered when its user connects.
    const brokenClient = await connect(broken);
    expect((await brokenClient.messages(1))[0]?.id).toBe(dropped);
    await Promise.all([aliceClient.close(), brokenClient.close()]);
  });

  it('PutEvents failing on every try does not fail the send: the event is counted failed and dropped', async () => {
    const [alice, away] = [id('alice'), id('away')];
    const aliceClient = await connect(alice);
    const before = await stats();
    faults.inject({ client: 'EventBridgeClient', command: 'PutEventsCommand', fault: 'server-error' });
    const messageId = await send(aliceClient, 'private', away);
    faults.clear();
    const after = await stats();
    expect(after.offlineEvents.failed - before.offlineEvents.failed).toBe(1);
    expect(after.offlineEvents.emitted).toBe(before.offlineEvents.emitted);
    expect(receiver.eventsFor(messageId)).toEqual([]);
    // The SDK retried the put (up to 3 attempts), and the emitter put it once more, within its deadline.
    expect(faults.injected.get('EventBridgeClient server-error')).toBeGreaterThan(1);
    const awayClient = await connect(away);
    expect((await awayClient.messages(1))[0]?.id).toBe(messageId);
    await Promise.all([aliceClient.close(), awayClient.close()]);
  });

  it('entries the bus refuses are put once more, and count as emitted when they get through', async () => {
    const [alice, away] = [id('alice'), id('away')];
    const aliceClient = await connect(alice);
    let refusals = 0;
    stack.eventBus.refuseEntry = () => (refusals++ === 0 ? 'InternalFailure' : undefined);
    const before = await stats();
    const messageId = await send(aliceClient, 'private', away);
    expect(refusals).toBe(2);
    const after = await stats();
    expect(after.offlineEvents.emitted - before.offlineEvents.emitted).toBe(1);
    expect(after.offlineEvents.failed).toBe(before.offlineEvents.failed);
    await receiver.until(() => receiver.eventsFor(messageId).length === 1);
    await aliceClient.close();
  });

  it('a bus that does not answer holds the reply back for the deadline at most: the event is given up on', async () => {
    const [alice, away] = [id('alice'), id('away')];
    const aliceClient = await connect(alice);
    const before = await stats();
    const release = stack.eventBus.hold();
    try {
      // Awaited while the bus still holds every request: the send does not wait for it.
      const messageId = await send(aliceClient, 'private', away);
      expect((await stats()).offlineEvents.failed - before.offlineEvents.failed).toBe(1);
      expect(await itemsOf(stack, offlineMessagesTable, away)).toEqual([expect.objectContaining({ id: messageId })]);
    } finally {
      release();
    }
    await aliceClient.close();
  });
});
