/** Roaming history and recent conversations end to end (SPEC §2, §4, §6), on a controllable clock. */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { defaultAppSettings } from '../../lib/retention/settings';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { TestClock } from '../support/clock';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;
const clock = new TestClock();
const day = 24 * 3_600_000;

beforeAll(async () => {
  stack = await startTestStack({ clock, settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());
afterEach(async () => {
  await admin(stack, 'PATCH', '/config', { ...defaultAppSettings });
});

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

/** Moves the test clock once the drains under way are done: a drain whose window jumped past would cut its connection off. */
async function advanceClock(ms: number): Promise<void> {
  await stack.lambda.idle();
  clock.advance(ms);
}

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

async function send(client: TestClient, type: 'private' | 'group', target: string, body: unknown, extra: Record<string, unknown> = {}) {
  const reply = await client.request({ action: 'send', type, target, clientMsgId: randomUUID(), body, ...extra });
  expect(reply).toMatchObject({ type: 'sent', status: 'accepted' });
  return reply.id as string;
}

/** Every page of a conversation's history, following `next`. */
async function allHistory(client: TestClient, type: 'private' | 'group', target: string, limit: number) {
  const pages: Array<{ bodies: unknown[]; next: unknown }> = [];
  let before: string | undefined;
  do {
    const reply = await client.request({ action: 'history', type, target, limit, ...(before && { before }) });
    expect(reply.type).toBe('history');
    pages.push({ bodies: (reply.messages as Message[]).map((m) => m.body), next: reply.next });
    before = (reply.next as string | null) ?? undefined;
  } while (before);
  return pages;
}

describe('history', () => {
  it('pages a private conversation newest first, for both sides, acked or not', async () => {
    const [aliceId, bobId] = [id('alice'), id('bob')];
    const [alice, bob] = await Promise.all([connect(aliceId), connect(bobId)]);
    for (const n of [1, 2, 3, 4, 5]) await send(alice, 'private', bobId, n);
    const received = await bob.messages(5);
    await bob.request({ action: 'ack', ids: received.map((m) => m.id) });

    // History is read eventually consistent: under AWS timing the newest message may take a moment to show.
    await expect.poll(() => allHistory(bob, 'private', aliceId, 2), { timeout: 3000 }).toEqual([
      { bodies: [5, 4], next: expect.any(String) },
      { bodies: [3, 2], next: expect.any(String) },
      { bodies: [1], next: null },
    ]);
    await expect.poll(() => allHistory(alice, 'private', bobId, 10), { timeout: 3000 }).toEqual([{ bodies: [5, 4, 3, 2, 1], next: null }]);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('keeps only qos-1 messages: a qos-0 message has no history', async () => {
    const [aliceId, carlId] = [id('alice'), id('carl')];
    const alice = await connect(aliceId);
    await send(alice, 'private', carlId, 'kept');
    await send(alice, 'private', carlId, 'fleeting', { qos: 0 });
    await expect.poll(async () => (await allHistory(alice, 'private', carlId, 50))[0]?.bodies, { timeout: 3000 }).toEqual(['kept']);
    await alice.close();
  });

  it('lets current group members read the group’s history, and nobody else', async () => {
    const [ann, ben, outsider] = [id('ann'), id('ben'), id('olga')];
    const groupId = id('g');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [ann, ben] });
    const [annClient, benClient, outsiderClient] = await Promise.all([connect(ann), connect(ben), connect(outsider)]);
    await send(annClient, 'group', groupId, 'from ann');
    await send(benClient, 'group', groupId, 'from ben');

    await expect.poll(async () => (await allHistory(benClient, 'group', groupId, 50))[0]?.bodies, { timeout: 3000 }).toEqual(['from ben', 'from ann']);
    expect(await outsiderClient.request({ action: 'history', type: 'group', target: groupId })).toMatchObject({ code: 'FORBIDDEN' });
    await admin(stack, 'POST', `/groups/${groupId}/members`, { remove: [ben] });
    expect(await benClient.request({ action: 'history', type: 'group', target: groupId })).toMatchObject({ code: 'FORBIDDEN' });
    await Promise.all([annClient.close(), benClient.close(), outsiderClient.close()]);
  });

  it('lets messages go from history after historyDays', async () => {
    await admin(stack, 'PATCH', '/config', { historyDays: 1 });
    const [aliceId, danId] = [id('alice'), id('dan')];
    const alice = await connect(aliceId);
    await send(alice, 'private', danId, 'yesterday');
    await advanceClock(day + 1000);
    await send(alice, 'private', danId, 'today');
    await expect.poll(async () => (await allHistory(alice, 'private', danId, 50))[0]?.bodies, { timeout: 3000 }).toEqual(['today']);
    await alice.close();
  });

  it('keeps a group message for groupHistoryDays, not historyDays, and a private one for historyDays', async () => {
    await admin(stack, 'PATCH', '/config', { historyDays: 1, groupHistoryDays: 3 });
    const [ann, ben] = [id('ann'), id('ben')];
    const groupId = id('g');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [ann, ben] })).status).toBe(200);
    const annClient = await connect(ann);
    await send(annClient, 'group', groupId, 'to the group');
    await send(annClient, 'private', ben, 'to ben');
    const kept = async (type: 'private' | 'group', target: string) => (await allHistory(annClient, type, target, 50))[0]?.bodies;
    // Membership is read eventually consistent: under AWS timing a group made just now may take a moment to show.
    await expect.poll(() => kept('group', groupId), { timeout: 3000 }).toEqual(['to the group']);
    expect(await kept('private', ben)).toEqual(['to ben']);

    // Past historyDays: the private message has gone, the group message stays.
    await advanceClock(day + 1000);
    expect(await kept('private', ben)).toEqual([]);
    expect(await kept('group', groupId)).toEqual(['to the group']);
    // Past groupHistoryDays: the group message has gone too.
    await advanceClock(2 * day);
    expect(await kept('group', groupId)).toEqual([]);
    await annClient.close();
  });

  it.each([
    [{ type: 'channel', target: 'x' }, "type must be 'private' or 'group'"],
    [{ type: 'private', target: 'x', limit: 0 }, 'limit must be at least 1'],
    [{ type: 'private', target: 'x', limit: 101 }, 'limit must be at most 100'],
    [{ type: 'private', target: 'x', before: 'yesterday' }, 'before must be a message id'],
    [{ type: 'private' }, 'target must be a string'],
  ])('refuses a history request %j', async (frame, message) => {
    const client = await connect(id('eve'));
    expect(await client.request({ action: 'history', ...frame })).toMatchObject({ type: 'error', code: 'BAD_REQUEST', message: expect.stringContaining(message) });
    await client.close();
  });
});

describe('recent conversations', () => {
  it('lists private and group conversations with their last message, newest first', async () => {
    const [me, bob, carol] = [id('me'), id('bob'), id('carol')];
    const groupId = id('g');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [me, carol] });
    const [mine, bobs, carols] = await Promise.all([connect(me), connect(bob), connect(carol)]);
    await send(mine, 'private', bob, 'to bob');
    await advanceClock(1000);
    await send(carols, 'group', groupId, 'in the group');
    await advanceClock(1000);
    await send(carols, 'private', me, 'from carol');
    await advanceClock(1000);
    await send(bobs, 'private', me, 'bob again');

    // Read eventually consistent: under AWS timing the newest entry may take a moment to show.
    await expect.poll(async () => (await mine.request({ action: 'recent' })).conversations, { timeout: 3000 }).toEqual([
      { type: 'private', target: bob, lastMessage: expect.objectContaining({ body: 'bob again', from: bob }), updatedAt: expect.any(String) },
      { type: 'private', target: carol, lastMessage: expect.objectContaining({ body: 'from carol' }), updatedAt: expect.any(String) },
      { type: 'group', target: groupId, lastMessage: expect.objectContaining({ body: 'in the group', to: groupId }), updatedAt: expect.any(String) },
    ]);
    expect((await mine.request({ action: 'recent', limit: 1 })).conversations).toHaveLength(1);
    await Promise.all([mine.close(), bobs.close(), carols.close()]);
  });

  it('keeps at most 100 conversations', async () => {
    const me = id('busy');
    const client = await connect(me);
    for (let i = 0; i < 105; i += 1) {
      await send(client, 'private', `${me}-friend-${String(i).padStart(3, '0')}`, i);
      await advanceClock(10);
    }
    const reply = await client.request({ action: 'recent' });
    const conversations = reply.conversations as Array<{ target: string; lastMessage: Message }>;
    expect(conversations).toHaveLength(100);
    expect(conversations[0]?.lastMessage.body).toBe(104);
    expect(conversations.at(-1)?.lastMessage.body).toBe(5);
    await client.close();
  }, 60_000);

  it('lets an entry go with its last message', async () => {
    await admin(stack, 'PATCH', '/config', { historyDays: 1, groupHistoryDays: 1 });
    const [me, friend] = [id('me'), id('friend')];
    const client = await connect(me);
    await send(client, 'private', friend, 'soon gone');
    expect((await client.request({ action: 'recent' })).conversations).toHaveLength(1);
    await advanceClock(day + 1000);
    expect((await client.request({ action: 'recent' })).conversations).toEqual([]);
    await client.close();
  });

  it('keeps none while recentConversationsEnabled is false', async () => {
    await admin(stack, 'PATCH', '/config', { recentConversationsEnabled: false });
    const [me, friend] = [id('me'), id('friend')];
    const client = await connect(me);
    await send(client, 'private', friend, 'not remembered');
    expect(await client.request({ action: 'recent' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await admin(stack, 'PATCH', '/config', { recentConversationsEnabled: true });
    expect((await client.request({ action: 'recent' })).conversations).toEqual([]);
    await client.close();
  });
});
