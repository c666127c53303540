/**
 * No client can hurt another (issue 13), end to end on the local stack: a flood fills only its own
 * sender's share of a queue (SPEC §6 `maxOfflineMessagesPerSender`), sends past a user's rate are
 * refused and leave nothing behind (`sendRatePerSecond`, `sendBurst`, SPEC §4 RATE_LIMITED), and a
 * user's connections are capped, the oldest told `closing` and closed (`maxConnectionsPerUser`).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { defaultAppSettings, type AppSettings } from '../../lib/retention/settings';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { TestClock } from '../support/clock';
import { localDocumentClient, startTestStack } from '../support/local-stack';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { connectionsTable } from '../../lib/tables';
import { RefusedError } from '../support/client';

type Frame = Record<string, unknown>;

let stack: LocalStack;
const clock = new TestClock();

beforeAll(async () => {
  stack = await startTestStack({ clock, settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());
afterEach(async () => {
  clock.thaw();
  await stack.lambda.idle();
  await admin(stack, 'PATCH', '/config', { ...defaultAppSettings });
});

const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function settings(change: Partial<AppSettings>): Promise<void> {
  expect((await admin(stack, 'PATCH', '/config', change)).status).toBe(200);
}

async function connect(userId: string, query: Record<string, string> = {}): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?${new URLSearchParams({ token: await stack.issueToken(userId), ...query })}`);
}

/**
 * A client that sends many frames at once without waiting between them, and collects each reply by
 * its requestId (kept out of `received`, so that thousands of replies cost no scan).
 */
async function flooder(
  userId: string,
): Promise<{ client: TestClient; sendAll(frames: Frame[]): Promise<Frame[]>; sendInOrder(frames: Frame[]): Promise<Frame[]> }> {
  const waiting = new Map<string, (reply: Frame) => void>();
  const client = await TestClient.connect(`${stack.wsUrl}/?${new URLSearchParams({ token: await stack.issueToken(userId) })}`, {
    onFrame: (frame) => {
      const resolve = typeof frame.requestId === 'string' ? waiting.get(frame.requestId) : undefined;
      if (!resolve) return undefined;
      waiting.delete(frame.requestId as string);
      resolve(frame);
      return 'handled';
    },
  });
  const send = (frame: Frame): Promise<Frame> => {
    const requestId = randomUUID();
    const reply = new Promise<Frame>((resolve) => waiting.set(requestId, resolve));
    client.send({ ...frame, requestId });
    return reply;
  };
  return {
    client,
    sendAll: (frames) => Promise.all(frames.map(send)),
    // Each after the reply to the one before: accepted, and so ordered, as sent.
    async sendInOrder(frames) {
      const replies: Frame[] = [];
      for (const frame of frames) replies.push(await send(frame));
      return replies;
    },
  };
}

const privateTo = (target: string, bodies: unknown[]): Frame[] =>
  bodies.map((body) => ({ action: 'send', type: 'private', target, clientMsgId: randomUUID(), body }));

/** What a fresh connection of the user is told by its drain: the dropped frames, then every message. */
async function whatArrives(userId: string, expectedMessages: number): Promise<{ dropped: Frame[]; messages: Message[] }> {
  const client = await connect(userId);
  const messages = await client.messages(expectedMessages, 20_000);
  await stack.lambda.idle();
  const dropped = client.received.filter((frame) => frame.type === 'dropped');
  await client.close();
  return { dropped, messages };
}

describe('the per-sender cap', () => {
  it('leaves alice’s 5 messages to dave delivered when mallory sends him 1,000 (the flood of issue 13)', async () => {
    // The rate limit out of the way: this is about what the queue keeps.
    await settings({ sendRatePerSecond: 10_000, sendBurst: 100_000 });
    const [alice, mallory, dave] = [user('alice'), user('mallory'), user('dave')];
    const aliceClient = await flooder(alice);
    expect((await aliceClient.sendInOrder(privateTo(dave, ['a1', 'a2', 'a3', 'a4', 'a5']))).map((r) => r.status)).toEqual(Array(5).fill('accepted'));
    const malloryClient = await flooder(mallory);
    const junk = Array.from({ length: 1000 }, (_, i) => `junk ${i}`);
    const replies = await malloryClient.sendAll(privateTo(dave, junk));
    expect(replies.filter((reply) => reply.status === 'accepted')).toHaveLength(1000);
    // Sent at once, they were accepted in whatever order they were handled: the newest are the largest ids.
    const newest = replies.map((reply) => reply.id as string).sort().slice(800);
    await Promise.all([aliceClient.client.close(), malloryClient.client.close()]);

    // All 1,005 are stored; only mallory's newest 200 count.
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body).toMatchObject({ count: 205, pendingDrops: { overflow: 800 } });
    const { dropped, messages } = await whatArrives(dave, 205);
    expect(dropped).toEqual([{ type: 'dropped', count: 800, reason: 'overflow' }]);
    expect(messages.slice(0, 5).map((m) => m.body)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(messages.slice(5).map((m) => m.id)).toEqual(newest);
  }, 120_000);

  it('counts a sender’s group copies with their private messages, and exempts system messages', async () => {
    await settings({ sendRatePerSecond: 10_000, sendBurst: 100_000, maxOfflineMessagesPerSender: 50 });
    const [alice, mallory, dave] = [user('alice'), user('mallory'), user('dave')];
    const team = user('team');
    expect((await admin(stack, 'PUT', `/groups/${team}`, { members: [mallory, dave] })).status).toBe(200);
    const aliceClient = await flooder(alice);
    await aliceClient.sendAll(privateTo(dave, ['from alice']));
    await aliceClient.client.close();
    const system = await admin(stack, 'POST', '/messages/system', { to: [dave], body: 'maintenance at 2' });
    expect(system.status).toBe(202);

    const malloryClient = await flooder(mallory);
    const groupFlood = Array.from({ length: 60 }, (_, i) => ({ action: 'send', type: 'group', target: team, clientMsgId: randomUUID(), body: `group ${i}` }));
    const replies = [...(await malloryClient.sendAll(groupFlood)), ...(await malloryClient.sendInOrder(privateTo(dave, ['p0', 'p1', 'p2'])))];
    expect(replies.every((reply) => reply.status === 'accepted')).toBe(true);
    await malloryClient.client.close();

    const { dropped, messages } = await whatArrives(dave, 52);
    // 63 from mallory, group and private alike, of which her newest 50 stay.
    expect(dropped).toEqual([{ type: 'dropped', count: 13, reason: 'overflow' }]);
    expect(messages.slice(0, 2).map((m) => m.body)).toEqual(['from alice', 'maintenance at 2']);
    expect(messages.slice(2).map((m) => m.id)).toEqual(replies.map((reply) => reply.id as string).sort().slice(13));
    expect(messages.slice(-3).map((m) => m.body)).toEqual(['p0', 'p1', 'p2']);
  });

  it('exempts what the app’s backend sends on a user’s behalf (POST /v1/messages)', async () => {
    await settings({ maxOfflineMessagesPerSender: 2 });
    const [mallory, dave] = [user('mallory'), user('dave')];
    const team = user('team');
    expect((await admin(stack, 'PUT', `/groups/${team}`, { members: [mallory, dave] })).status).toBe(200);
    const byBackend = [
      { type: 'private', target: dave, body: 'backend 1' },
      { type: 'group', target: team, body: 'backend 2' },
      { type: 'private', target: dave, body: 'backend 3' },
    ];
    for (const message of byBackend) expect((await admin(stack, 'POST', '/messages', { from: mallory, ...message })).status).toBe(201);
    const malloryClient = await flooder(mallory);
    await malloryClient.sendInOrder(privateTo(dave, ['own 1', 'own 2', 'own 3']));
    await malloryClient.client.close();

    // Mallory's own three are held to her cap of 2; the backend's three count against no one.
    const { dropped, messages } = await whatArrives(dave, 5);
    expect(dropped).toEqual([{ type: 'dropped', count: 1, reason: 'overflow' }]);
    expect(messages.map((m) => m.body)).toEqual(['backend 1', 'backend 2', 'backend 3', 'own 2', 'own 3']);
  });
});

describe('the send rate', () => {
  it('refuses 5,000 sends from one connection past the burst with RATE_LIMITED, and stores and pushes nothing past it', async () => {
    const [mallory, dave, alice] = [user('mallory'), user('dave'), user('alice')];
    const daveClient = await connect(dave);
    await stack.lambda.idle();
    // Stopped, the clock refills nothing: exactly the burst is let through.
    clock.freeze();
    const malloryClient = await flooder(mallory);
    const replies = await malloryClient.sendAll(privateTo(dave, Array.from({ length: 5000 }, (_, i) => i)));

    const accepted = replies.filter((reply) => reply.type === 'sent');
    const refused = replies.filter((reply) => reply.type === 'error');
    expect(accepted).toHaveLength(100);
    expect(accepted.every((reply) => reply.status === 'accepted')).toBe(true);
    expect(refused).toHaveLength(4900);
    expect(new Set(refused.map((reply) => reply.code))).toEqual(new Set(['RATE_LIMITED']));
    // Until ten tokens are back, at 20 a second.
    expect(new Set(refused.map((reply) => reply.retryAfterMs))).toEqual(new Set([500]));
    // Another user is not held back by mallory's flood.
    const aliceClient = await flooder(alice);
    expect((await aliceClient.sendAll(privateTo(dave, ['alice meanwhile'])))[0]).toMatchObject({ type: 'sent', status: 'accepted' });

    // What was accepted, and nothing else, was stored and pushed.
    const pushed = await daveClient.messages(101);
    expect(pushed.map((m) => m.id).sort()).toEqual([...accepted.map((reply) => reply.id as string), (pushed.find((m) => m.from === alice) as Message).id].sort());
    await daveClient.close();
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body).toMatchObject({ count: 101 });

    // Half a second on, ten more: a flood is let through ten at a time.
    clock.advance(500);
    const later = await malloryClient.sendAll(privateTo(dave, Array.from({ length: 30 }, (_, i) => `later ${i}`)));
    expect(later.filter((reply) => reply.type === 'sent')).toHaveLength(10);
    await Promise.all([malloryClient.client.close(), aliceClient.client.close()]);
  }, 120_000);

  it('is one rate across a user’s devices, for every kind of send', async () => {
    await settings({ sendRatePerSecond: 1, sendBurst: 30 });
    const [mallory, dave] = [user('mallory'), user('dave')];
    clock.freeze();
    const phone = await flooder(mallory);
    const laptop = await flooder(mallory);
    const room = user('room');
    expect(await phone.client.request({ action: 'joinRoom', room })).toMatchObject({ type: 'joined' });
    // More than the burst from the phone alone, so that some of its sends are refused whatever the order.
    const phoneFrames = privateTo(dave, Array.from({ length: 40 }, (_, i) => `phone ${i}`));
    const [fromPhone, fromLaptop, chatroom] = await Promise.all([
      phone.sendAll(phoneFrames),
      laptop.sendAll(privateTo(dave, Array.from({ length: 20 }, (_, i) => `laptop ${i}`)).map((frame) => ({ ...frame, qos: 0 }))),
      phone.sendAll(Array.from({ length: 5 }, () => ({ action: 'send', type: 'chatroom', target: room, clientMsgId: randomUUID(), body: 'hi' }))),
    ]);
    const admitted = [...fromPhone, ...fromLaptop, ...chatroom].filter((reply) => reply.type === 'sent');
    expect(admitted).toHaveLength(30);
    const storedFromPhone = fromPhone.filter((reply) => reply.type === 'sent').length;
    await stack.lambda.idle();
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body.count).toBe(storedFromPhone);

    // A refused send left nothing behind: sent again with the same clientMsgId once there is room, it is new.
    const refusedIndex = fromPhone.findIndex((reply) => reply.type === 'error');
    expect(refusedIndex).toBeGreaterThanOrEqual(0);
    clock.advance(10_000);
    const [again] = await phone.sendAll([phoneFrames[refusedIndex] as Frame]);
    expect(again).toMatchObject({ type: 'sent', status: 'accepted' });
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body.count).toBe(storedFromPhone + 1);
    await Promise.all([phone.client.close(), laptop.client.close()]);
  });

  it('does not limit the admin API', async () => {
    await settings({ sendRatePerSecond: 1, sendBurst: 1 });
    const dave = user('dave');
    clock.freeze();
    for (let i = 0; i < 5; i += 1) {
      expect((await admin(stack, 'POST', '/messages/system', { to: [dave], body: `notice ${i}` })).status).toBe(202);
    }
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body.count).toBe(5);
  });

  it('does not limit what the app’s backend sends as a user, nor count it against the user’s rate', async () => {
    await settings({ sendRatePerSecond: 1, sendBurst: 1 });
    const [mallory, dave] = [user('mallory'), user('dave')];
    clock.freeze();
    for (let i = 0; i < 5; i += 1) {
      expect((await admin(stack, 'POST', '/messages', { from: mallory, type: 'private', target: dave, body: `backend ${i}` })).status).toBe(201);
    }
    const malloryClient = await flooder(mallory);
    const replies = await malloryClient.sendInOrder(privateTo(dave, ['own 1', 'own 2']));
    expect(replies.map((reply) => reply.type === 'sent' ? reply.status : reply.code)).toEqual(['accepted', 'RATE_LIMITED']);
    await malloryClient.client.close();
    expect((await admin(stack, 'GET', `/users/${dave}/offline`)).body.count).toBe(6);
  });
});

describe('connections per user', () => {
  const recorded = async (userId: string) => {
    const { Item } = await localDocumentClient().send(
      new GetCommand({ TableName: stack.tableName(connectionsTable), Key: { userId }, ConsistentRead: true }),
    );
    return { names: Object.keys(Item ?? {}).filter((key) => key.startsWith('connection:')), bytes: JSON.stringify(Item ?? {}).length };
  };

  it('closes the oldest of 51 after its closing frame, and keeps the other 50', async () => {
    const carol = user('carol');
    const clients: TestClient[] = [];
    for (let i = 0; i < 50; i += 1) clients.push(await connect(carol, { deviceId: `device-${i}` }));
    await stack.lambda.idle();
    const [oldest] = clients as [TestClient];

    const newest = await connect(carol, { deviceId: 'device-50' });
    expect(await oldest.next((frame) => frame.type === 'closing')).toEqual({ type: 'closing', reason: 'replaced' });
    await oldest.closed;
    // The frame came before the close, and nothing after it.
    expect(oldest.received.at(-1)).toEqual({ type: 'closing', reason: 'replaced' });
    await stack.lambda.idle();
    expect(clients.slice(1).every((client) => client.isOpen)).toBe(true);
    expect(newest.isOpen).toBe(true);
    expect((await recorded(carol)).names).toHaveLength(50);

    // A message to carol now reaches the 50, not the replaced one.
    const sender = await flooder(user('sam'));
    const [reply] = await sender.sendAll(privateTo(carol, ['to all of carol']));
    const all = [...clients.slice(1), newest];
    const arrived = await Promise.all(all.map((client) => client.messages(1)));
    expect(arrived.every(([m]) => m?.id === reply?.id)).toBe(true);
    await Promise.all([...all, sender.client].map((client) => client.close()));
  });

  it('never gives a 500 over 2,000 connections with 128-character device ids, and keeps the record small', { timeout: 240_000 }, async () => {
    const lou = user('lou');
    const deviceId = (i: number) => `d${i}-`.padEnd(128, 'x');
    let refused = 0;
    let told = 0;
    const open: TestClient[] = [];
    for (let i = 0; i < 2000; i += 50) {
      const wave = await Promise.allSettled(Array.from({ length: 50 }, (_, j) => connect(lou, { deviceId: deviceId(i + j) })));
      for (const result of wave) {
        if (result.status === 'rejected') {
          if (!(result.reason instanceof RefusedError)) throw result.reason;
          refused += 1;
          continue;
        }
        open.push(result.value);
      }
      // Held like phones that never say goodbye: only a replacement closes them.
    }
    await stack.lambda.idle();
    await Promise.all(open.filter((client) => !client.isOpen).map((client) => client.closed));
    told = open.filter((client) => client.received.some((frame) => frame.type === 'closing' && frame.reason === 'replaced')).length;
    expect(refused).toBe(0);
    const stillOpen = open.filter((client) => client.isOpen);
    expect(stillOpen).toHaveLength(50);
    expect(told).toBe(1950);
    const record = await recorded(lou);
    expect(record.names).toHaveLength(50);
    // 50 entries of a few hundred bytes: nowhere near DynamoDB's 400 KB.
    expect(record.bytes).toBeLessThan(50 * 400);
    await Promise.all(stillOpen.map((client) => client.close()));
  });
});
