/**
 * Store and forward end to end (SPEC §3–§5), with real WebSocket clients on the local stack.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../lib/dynamodb/connection-store';
import type { Message } from '../../lib/protocol';
import { connectionsTable, offlineMessagesTable, sendReceiptsTable } from '../../lib/tables';
import { FaultInjector } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { TestClock } from '../support/clock';
import { localDocumentClient, startTestStack, untilSettled } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';
import { admin } from '../support/admin';

let stack: LocalStack;
const clock = new TestClock();
const faults = new FaultInjector();
const db = localDocumentClient();
const ulid = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const sevenDaysMs = 7 * 24 * 60 * 60 * 1000;

beforeAll(async () => {
  stack = await startTestStack({ clock, faults, settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());
// Every test starts on the real now and with no fault injected, whatever the one before it did or
// failed to undo: after each test rather than before, so that a describe's beforeAll (which runs
// before the next test's beforeEach) starts so too; once the drains it started are done.
afterEach(async () => {
  faults.clear();
  await stack.lambda.idle();
  clock.reset();
});

/** Moves the test clock once the drains under way are done: a drain whose window jumped past would cut its connection off. */
async function advanceClock(ms: number): Promise<void> {
  await stack.lambda.idle();
  clock.advance(ms);
}

/** A user id of this test's own, so that tests never see each other's messages. */
const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string, deviceId?: string): Promise<TestClient> {
  const query = new URLSearchParams({ token: await stack.issueToken(userId), ...(deviceId && { deviceId }) });
  return TestClient.connect(`${stack.wsUrl}/?${query}`);
}

function send(client: TestClient, target: string, body: unknown, extra: Record<string, unknown> = {}) {
  return client.request({ action: 'send', type: 'private', target, clientMsgId: randomUUID(), body, ...extra });
}

const queued = (userId: string) => itemsOf(stack, offlineMessagesTable, userId);

/** Asks for the queue again and returns what that delivered: the `synced` reply comes after its frames. */
async function syncedMessages(client: TestClient): Promise<{ count: number; messages: Message[] }> {
  const before = client.messageFrames.length;
  const reply = await client.request({ action: 'sync' });
  expect(reply.type).toBe('synced');
  const frames = client.messageFrames.slice(before);
  return { count: reply.count as number, messages: frames.flatMap((frame) => frame.messages as Message[]) };
}

describe('sending to a user who is away', () => {
  it('delivers three messages in order on connect, without being asked', async () => {
    const [aliceId, bobId] = [user('alice'), user('bob')];
    const alice = await connect(aliceId);
    const replies = [];
    for (const body of ['one', { two: 2 }, [3]]) replies.push(await send(alice, bobId, body));
    for (const reply of replies) expect(reply).toMatchObject({ type: 'sent', status: 'accepted', id: expect.stringMatching(ulid) });

    const bob = await connect(bobId);
    const messages = await bob.messages(3);
    expect(messages.map((m) => m.body)).toEqual(['one', { two: 2 }, [3]]);
    expect(messages.map((m) => m.id)).toEqual(replies.map((r) => r.id));
    expect([...messages.map((m) => m.id)].sort()).toEqual(messages.map((m) => m.id));
    for (const message of messages) {
      expect(message).toMatchObject({ type: 'private', from: aliceId, to: bobId, qos: 1 });
      // Whole seconds, rounded up: DynamoDB TTL counts in seconds.
      expect(Date.parse(message.expiresAt)).toBe(Math.ceil((Date.parse(message.sentAt) + sevenDaysMs) / 1000) * 1000);
    }
    await Promise.all([alice.close(), bob.close()]);
  });

  it('delivers unacked messages again on every reconnect, and acked ones never again', async () => {
    const [aliceId, bobId] = [user('alice'), user('bob')];
    const alice = await connect(aliceId);
    await send(alice, bobId, 'first');
    await send(alice, bobId, 'second');

    let bob = await connect(bobId);
    const [first, second] = await bob.messages(2);
    expect(await bob.request({ action: 'ack', ids: [first?.id] })).toMatchObject({ type: 'acked', ids: [first?.id] });
    await bob.close();

    bob = await connect(bobId);
    expect((await bob.messages(1)).map((m) => m.id)).toEqual([second?.id]);
    expect(await bob.request({ action: 'ack', ids: [second?.id, second?.id] })).toMatchObject({ ids: [second?.id] });
    await bob.close();

    bob = await connect(bobId);
    expect(await syncedMessages(bob)).toEqual({ count: 0, messages: [] });
    expect(bob.messageFrames).toEqual([]);
    expect(await queued(bobId)).toEqual([]);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('answers sync with the queue again, then synced with its size', async () => {
    const [aliceId, bobId] = [user('alice'), user('bob')];
    const alice = await connect(aliceId);
    await send(alice, bobId, 'kept');
    const bob = await connect(bobId);
    await bob.messages(1);
    const again = await syncedMessages(bob);
    expect(again.count).toBe(1);
    expect(again.messages.map((m) => m.body)).toEqual(['kept']);
    await Promise.all([alice.close(), bob.close()]);
  });
});

describe('several devices', () => {
  it('pushes to both of a user’s devices, and an ack on one clears the message for the other', async () => {
    const [aliceId, bobId] = [user('alice'), user('bob')];
    const alice = await connect(aliceId);
    const phone = await connect(bobId, 'phone');
    const laptop = await connect(bobId, 'laptop');

    const sent = await send(alice, bobId, 'to both');
    const [onPhone] = await phone.messages(1);
    const [onLaptop] = await laptop.messages(1);
    expect(onPhone?.id).toBe(sent.id);
    expect(onLaptop?.id).toBe(sent.id);

    expect(await phone.request({ action: 'ack', ids: [sent.id] })).toMatchObject({ ids: [sent.id] });
    expect(await syncedMessages(laptop)).toEqual({ count: 0, messages: [] });
    await Promise.all([alice.close(), phone.close(), laptop.close()]);
  });

  it('shows the sender’s other device what the first sent, without queueing it for the sender', async () => {
    const [aliceId, carolId] = [user('alice'), user('carol')];
    const phone = await connect(aliceId, 'phone');
    const laptop = await connect(aliceId, 'laptop');
    await untilSettled(stack); // The laptop's copy is not stored for it: it needs a socket that accepts posts.
    const sent = await send(phone, carolId, 'from my phone');

    const [seen] = await laptop.messages(1);
    expect(seen).toMatchObject({ id: sent.id, from: aliceId, to: carolId, body: 'from my phone' });
    expect(phone.messageFrames).toEqual([]);
    expect(await queued(aliceId)).toEqual([]);
    expect(await queued(carolId)).toHaveLength(1);
    await Promise.all([phone.close(), laptop.close()]);
  });
});

describe('delivery semantics', () => {
  it('stores a resend with the same clientMsgId once, and answers duplicate with the original id', async () => {
    const [aliceId, daveId] = [user('alice'), user('dave')];
    const alice = await connect(aliceId);
    const clientMsgId = randomUUID();
    const first = await send(alice, daveId, 'once', { clientMsgId });
    const again = await send(alice, daveId, 'once', { clientMsgId });
    expect(again).toMatchObject({ type: 'sent', clientMsgId, id: first.id, status: 'duplicate' });

    expect(await queued(daveId)).toHaveLength(1);
    const dave = await connect(daveId);
    expect((await dave.messages(1)).map((m) => m.body)).toEqual(['once']);
    expect((await syncedMessages(dave)).count).toBe(1);
    await Promise.all([alice.close(), dave.close()]);
  });

  it('answers CONFLICT, storing nothing, when a clientMsgId is reused for another body, target or type', async () => {
    const [aliceId, daveId, eveId] = [user('alice'), user('dave'), user('eve')];
    // A group named as dave is, so that the type alone differs.
    const groupId = daveId;
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [aliceId, daveId] })).status).toBe(200);
    const alice = await connect(aliceId);
    const clientMsgId = randomUUID();
    const first = await send(alice, daveId, 'once', { clientMsgId });
    expect(first).toMatchObject({ status: 'accepted' });
    const reused = [
      { target: daveId, body: 'another body' },
      { target: eveId, body: 'once' },
      { type: 'group', target: groupId, body: 'once' },
    ];
    for (const change of reused) {
      const reply = await alice.request({ action: 'send', type: 'private', clientMsgId, ...change });
      expect(reply).toMatchObject({ type: 'error', code: 'CONFLICT' });
      expect(reply.message).toMatch(/clientMsgId/);
    }
    expect((await queued(daveId)).map((item) => item.id)).toEqual([first.id]);
    expect(await queued(eveId)).toEqual([]);
    expect((await admin(stack, 'GET', `/groups/${groupId}`)).status).toBe(200);
    // The original is still the message that clientMsgId stands for.
    expect(await send(alice, daveId, 'once', { clientMsgId })).toMatchObject({ status: 'duplicate', id: first.id });
    await alice.close();
  });

  it('treats the same clientMsgId from another sender as a new message', async () => {
    const [aliceId, zedId, daveId] = [user('alice'), user('zed'), user('dave')];
    const [alice, zed] = await Promise.all([connect(aliceId), connect(zedId)]);
    const clientMsgId = randomUUID();
    const a = await send(alice, daveId, 'from alice', { clientMsgId });
    const z = await send(zed, daveId, 'from zed', { clientMsgId });
    expect(z).toMatchObject({ status: 'accepted' });
    expect(z.id).not.toBe(a.id);
    expect(await queued(daveId)).toHaveLength(2);
    await Promise.all([alice.close(), zed.close()]);
  });

  it('does not store a qos-0 message for a user who is away, and pushes it to one who is online', async () => {
    const [aliceId, eveId, finnId] = [user('alice'), user('eve'), user('finn')];
    const alice = await connect(aliceId);
    expect(await send(alice, eveId, 'fire and forget', { qos: 0 })).toMatchObject({ status: 'accepted' });
    expect(await queued(eveId)).toEqual([]);

    const finn = await connect(finnId);
    await untilSettled(stack);
    const sent = await send(alice, finnId, 'live only', { qos: 0 });
    expect(await finn.messages(1)).toEqual([expect.objectContaining({ id: sent.id, body: 'live only', qos: 0 })]);
    expect(await queued(finnId)).toEqual([]);

    const eve = await connect(eveId);
    expect(await syncedMessages(eve)).toEqual({ count: 0, messages: [] });
    await Promise.all([alice.close(), eve.close(), finn.close()]);
  });

  it('never delivers a message past its ttlSeconds: the drain announces it as expired and removes it', async () => {
    const [aliceId, gusId] = [user('alice'), user('gus')];
    const alice = await connect(aliceId);
    const shortLived = await send(alice, gusId, 'gone soon', { ttlSeconds: 60 });
    const message = (await queued(gusId))[0];
    expect(message?.expiresAt).toBe(Math.ceil((Date.parse(message?.sentAt as string) + 60_000) / 1000));

    await advanceClock(61_000);
    await send(alice, gusId, 'still here');
    expect((await queued(gusId)).map((m) => m.id)).toContain(shortLived.id);
    const gus = await connect(gusId);
    expect(await gus.next()).toEqual({ type: 'dropped', count: 1, reason: 'expired' });
    // The first messages frame holds everything deliverable: only the later message.
    expect((await gus.messages(1)).map((m) => m.body)).toEqual(['still here']);
    expect((await queued(gusId)).map((m) => m.id)).not.toContain(shortLived.id);
    await Promise.all([alice.close(), gus.close()]);
  });
});

describe('bad input', () => {
  let alice: TestClient;
  let aliceId: string;
  beforeAll(async () => {
    aliceId = user('alice');
    alice = await connect(aliceId);
  });
  afterAll(() => alice?.close());

  it('refuses a body over 30 KB with TOO_LARGE, and stores nothing', async () => {
    const hankId = user('hank');
    // 31 KB still fits in API Gateway's 32 KB frame, so it reaches the handler.
    const reply = await send(alice, hankId, 'x'.repeat(31 * 1024));
    expect(reply).toMatchObject({ type: 'error', code: 'TOO_LARGE', message: 'body is larger than 30 KB once serialized' });
    // Exactly 30 KB serialized is still fine, and its frame fits in 32 KB.
    expect(await send(alice, hankId, 'y'.repeat(30 * 1024 - 2))).toMatchObject({ status: 'accepted' });
    expect((await queued(hankId)).map((m) => (m.body as string).length)).toEqual([30 * 1024]);
  });

  it('refuses a body nested more than 100 deep with BAD_REQUEST, even far too deep to serialize, and stores nothing', async () => {
    const ivyId = user('ivy');
    // 16,000 deep still fits in one 32 KB frame.
    for (const depth of [101, 16_000]) {
      alice.sendRaw(`{"action":"send","type":"private","target":"${ivyId}","clientMsgId":"deep${depth}","requestId":"d${depth}","body":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expect(await alice.next((frame) => frame.requestId === `d${depth}`)).toMatchObject({
        type: 'error',
        code: 'BAD_REQUEST',
        message: 'body may nest arrays and objects at most 100 deep',
      });
    }
    expect(await queued(ivyId)).toEqual([]);
    const hundred = JSON.parse(`${'['.repeat(100)}${']'.repeat(100)}`) as unknown;
    expect(await send(alice, ivyId, hundred)).toMatchObject({ status: 'accepted' });
  });

  it.each([
    ['no clientMsgId', { clientMsgId: undefined }, 'clientMsgId must be a string'],
    ['an empty clientMsgId', { clientMsgId: '' }, 'clientMsgId must not be empty'],
    ['a 65-character clientMsgId', { clientMsgId: 'c'.repeat(65) }, 'clientMsgId must be at most 64 characters'],
    ['no body', { body: undefined }, 'body is required (any JSON value)'],
    ['no target', { target: undefined }, 'target must be a string'],
    ['a target that is not a user id', { target: 'not a user' }, 'target may only contain'],
    ['an unknown type', { type: 'carrier-pigeon' }, "type must be 'private'"],
    ['qos 2', { qos: 2 }, 'qos must be 0 or 1'],
    ['ttlSeconds 0', { ttlSeconds: 0 }, 'ttlSeconds must be at least 1'],
    ['fractional ttlSeconds', { ttlSeconds: 1.5 }, 'ttlSeconds must be a whole number of seconds'],
  ])('refuses a send with %s as BAD_REQUEST, and stores nothing', async (_label, change, message) => {
    const targetId = user('ivy');
    const frame = { action: 'send', type: 'private', target: targetId, clientMsgId: randomUUID(), body: 'b', ...change };
    const reply = await alice.request(frame);
    expect(reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(reply.message).toContain(message);
    expect(await queued(targetId)).toEqual([]);
  });

  it('refuses an ack with no ids, too many, or ids that are not message ids', async () => {
    const tooMany = Array.from({ length: 101 }, () => '01JAAAAAAAAAAAAAAAAAAAAAAA');
    for (const [ids, message] of [
      [[], 'ids must name at least one message'],
      [tooMany, 'ids may name at most 100 messages'],
      [['nope'], 'ids.0 must be a message id (a 26-character ULID)'],
      ['01JAAAAAAAAAAAAAAAAAAAAAAA', 'ids must be an array of message ids'],
    ] as const) {
      expect(await alice.request({ action: 'ack', ids })).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message });
    }
  });

  it('lets nobody ack another user’s messages: their ids are ignored', async () => {
    const [jillId, malloryId] = [user('jill'), user('mallory')];
    const sent = await send(alice, jillId, 'for jill only');
    const mallory = await connect(malloryId);
    expect(await mallory.request({ action: 'ack', ids: [sent.id] })).toEqual({ type: 'acked', ids: [], requestId: expect.any(String) });
    expect(await queued(jillId)).toHaveLength(1);
    const jill = await connect(jillId);
    expect((await jill.messages(1)).map((m) => m.id)).toEqual([sent.id]);
    await Promise.all([mallory.close(), jill.close()]);
  });
});

describe('stale connections', () => {
  it('forgets a connection API Gateway no longer knows, and keeps the message queued', async () => {
    const [aliceId, kimId] = [user('alice'), user('kim')];
    // A connection whose $disconnect never came: recorded, but unknown to the gateway.
    const connections = new DynamoConnectionStore(db, stack.tableName(connectionsTable));
    await connections.add(
      { userId: kimId, connectionId: 'VanishedConn0A=', connectedAt: clock.now() },
      new Date(clock.now().getTime() + 3_600_000),
      clock.now(),
    );
    await connections.finishDrain(kimId, 'VanishedConn0A=', 0);

    const alice = await connect(aliceId);
    await send(alice, kimId, 'waiting for kim');
    expect((await connections.lookup([kimId], clock.now())).get(kimId)?.connections).toEqual([]);
    expect(await queued(kimId)).toHaveLength(1);

    const kim = await connect(kimId);
    expect((await kim.messages(1)).map((m) => m.body)).toEqual(['waiting for kim']);
    await Promise.all([alice.close(), kim.close()]);
  });
});

describe('failed writes', () => {
  it('answers INTERNAL when the message cannot be stored; the resend completes it under the id it claimed', async () => {
    const [aliceId, leoId] = [user('alice'), user('leo')];
    const [alice, leo] = await Promise.all([connect(aliceId), connect(leoId)]);
    const stopFault = faults.inject({
      client: 'DynamoDBClient',
      command: 'PutItemCommand',
      table: stack.tableName(offlineMessagesTable),
      fault: 'server-error',
    });
    const clientMsgId = randomUUID();
    const failed = await send(alice, leoId, 'doomed', { clientMsgId });
    stopFault();
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL' });
    expect(JSON.stringify(failed)).not.toMatch(/Offline|table|injected/i);
    expect(await syncedMessages(leo)).toEqual({ count: 0, messages: [] });
    expect(leo.messageFrames).toEqual([]);
    expect(await queued(leoId)).toEqual([]);

    // The first try claimed an id before it failed: the resend is that same message, finished now.
    const retried = await send(alice, leoId, 'doomed', { clientMsgId });
    expect(retried).toMatchObject({ status: 'duplicate', id: expect.stringMatching(ulid) });
    expect((await leo.messages(1)).map((m) => m.id)).toEqual([retried.id]);
    expect((await queued(leoId)).map((item) => item.id)).toEqual([retried.id]);
    await Promise.all([alice.close(), leo.close()]);
  });

  it('stores nothing when claiming the id fails with its outcome unknown; the resend finds the claim and completes it', async () => {
    const [aliceId, miaId] = [user('alice'), user('mia')];
    const [alice, mia] = await Promise.all([connect(aliceId), connect(miaId)]);
    const receiptWrites = { client: 'DynamoDBClient', command: 'PutItemCommand', table: stack.tableName(sendReceiptsTable) } as const;
    // The receipt is written but the answer lost, and every retry fails: the outcome is unknown.
    const stops = [faults.inject({ ...receiptWrites, fault: 'lost-reply', times: 1 }), faults.inject({ ...receiptWrites, fault: 'server-error' })];
    const clientMsgId = randomUUID();
    const failed = await send(alice, miaId, 'kept', { clientMsgId });
    for (const stop of stops) stop();
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL' });
    expect(await queued(miaId)).toEqual([]);

    // The receipt was written: the resend is that message, under the id the receipt holds, and only it.
    const resent = await send(alice, miaId, 'kept', { clientMsgId });
    expect(resent).toMatchObject({ status: 'duplicate', id: expect.stringMatching(ulid) });
    expect((await mia.messages(1)).map((m) => [m.id, m.body])).toEqual([[resent.id, 'kept']]);
    expect((await queued(miaId)).map((item) => item.id)).toEqual([resent.id]);
    await Promise.all([alice.close(), mia.close()]);
  });

  it('stores nothing when the claim was not written; the resend is the one and only copy', async () => {
    const [aliceId, ninaId] = [user('alice'), user('nina')];
    const alice = await connect(aliceId);
    const stopFault = faults.inject({ client: 'DynamoDBClient', command: 'PutItemCommand', table: stack.tableName(sendReceiptsTable), fault: 'server-error' });
    const clientMsgId = randomUUID();
    const failed = await send(alice, ninaId, 'once', { clientMsgId });
    stopFault();
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL' });
    const accepted = await send(alice, ninaId, 'once', { clientMsgId });
    expect(accepted).toMatchObject({ status: 'accepted' });

    const nina = await connect(ninaId);
    expect((await nina.messages(1)).map((m) => m.id)).toEqual([accepted.id]);
    expect((await syncedMessages(nina)).messages.map((m) => m.id)).toEqual([accepted.id]);
    await Promise.all([alice.close(), nina.close()]);
  });

  it('pushes the original again when a resend is answered duplicate: its first try may not have pushed it yet', async () => {
    const [aliceId, omarId] = [user('alice'), user('omar')];
    const [alice, omar] = await Promise.all([connect(aliceId), connect(omarId)]);
    await stack.lambda.idle(); // Omar's drain done: what follows is the pushes alone.
    const clientMsgId = randomUUID();
    const first = await send(alice, omarId, 'once', { clientMsgId });
    expect((await omar.messages(1)).map((m) => m.id)).toEqual([first.id]);
    expect(await send(alice, omarId, 'once', { clientMsgId })).toMatchObject({ status: 'duplicate', id: first.id });
    expect((await omar.messages(1)).map((m) => m.id)).toEqual([first.id]);

    // A resend after the ack completes the send again (at least once): whatever comes carries the one id.
    expect(await omar.request({ action: 'ack', ids: [first.id] })).toMatchObject({ type: 'acked', ids: [first.id] });
    expect(await send(alice, omarId, 'once', { clientMsgId })).toMatchObject({ status: 'duplicate', id: first.id });
    expect(await omar.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    expect(new Set(omar.messageFrames.flatMap((frame) => (frame.messages as Message[]).map((m) => m.id)))).toEqual(new Set([first.id]));
    await Promise.all([alice.close(), omar.close()]);
  });
});

describe('faults on the way out', () => {
  it('closes a connection whose push failed, so that it reconnects and gets the message in order', async () => {
    const [aliceId, noraId] = [user('alice'), user('nora')];
    const [alice, nora] = await Promise.all([connect(aliceId), connect(noraId)]);
    expect(await send(alice, noraId, 'first')).toMatchObject({ status: 'accepted' });
    expect((await nora.messages(1)).map((m) => m.body)).toEqual(['first']);

    const stopFault = faults.inject({ client: 'ApiGatewayManagementApiClient', command: 'PostToConnectionCommand', fault: 'server-error' });
    expect(await send(alice, noraId, 'missed')).toMatchObject({ status: 'accepted' });
    stopFault();
    // Had the connection stayed open, 'after' would have reached it before 'missed'.
    expect((await nora.closed).code).toBe(1000);
    expect(await send(alice, noraId, 'after')).toMatchObject({ status: 'accepted' });

    const again = await connect(noraId);
    expect((await again.messages(3)).map((m) => m.body)).toEqual(['first', 'missed', 'after']);
    await Promise.all([alice.close(), again.close()]);
  });

  it('answers INTERNAL when the recipients cannot be looked up; the resend pushes it before anything sent later', async () => {
    const [aliceId, quinnId] = [user('alice'), user('quinn')];
    const [alice, quinn] = await Promise.all([connect(aliceId), connect(quinnId)]);
    // Quinn's drain, still finishing, would read the stored message and deliver it before the resend.
    await stack.lambda.idle();
    const stopFault = faults.inject({
      client: 'DynamoDBClient',
      command: 'BatchGetItemCommand',
      table: stack.tableName(connectionsTable),
      fault: 'server-error',
    });
    const clientMsgId = randomUUID();
    const failed = await send(alice, quinnId, 'again', { clientMsgId });
    stopFault();
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL' });
    expect(quinn.messageFrames).toEqual([]);

    // The resend completes the same message, and Quinn's open connection gets it before anything sent later.
    const resent = await send(alice, quinnId, 'again', { clientMsgId });
    expect(resent).toMatchObject({ status: 'duplicate' });
    expect((await queued(quinnId)).map((item) => item.id)).toEqual([resent.id]);
    expect(await send(alice, quinnId, 'later')).toMatchObject({ status: 'accepted' });
    expect((await quinn.messages(2)).map((m) => m.body)).toEqual(['again', 'later']);
    await Promise.all([alice.close(), quinn.close()]);
  });

  it('refuses a connection whose drain cannot be started, and records nothing', async () => {
    const olgaId = user('olga');
    const stopFault = faults.inject({ client: 'LambdaClient', command: 'InvokeCommand', fault: 'server-error' });
    const refused = await TestClient.refusal(`${stack.wsUrl}/?${new URLSearchParams({ token: await stack.issueToken(olgaId) })}`);
    stopFault();
    expect(refused).toBe(500);
    expect((await new DynamoConnectionStore(db, stack.tableName(connectionsTable)).lookup([olgaId], clock.now())).get(olgaId)?.connections ?? []).toEqual([]);
  });

  it('counts a send receipt whose reply was lost, and retried, as its own: accepted, not a duplicate', async () => {
    const [aliceId, piaId] = [user('alice'), user('pia')];
    const alice = await connect(aliceId);
    const stopFault = faults.inject({
      client: 'DynamoDBClient',
      command: 'PutItemCommand',
      table: stack.tableName(sendReceiptsTable),
      fault: 'lost-reply',
    });
    // The first attempt writes the receipt and its answer is lost; the SDK's retry finds it there.
    const reply = await send(alice, piaId, 'kept');
    stopFault();
    expect(reply).toMatchObject({ status: 'accepted' });
    const pia = await connect(piaId);
    expect((await pia.messages(1)).map((m) => m.id)).toEqual([reply.id]);
    await Promise.all([alice.close(), pia.close()]);
  });
});
