/**
 * `POST /v1/messages` and `pigeonhole send` (SPEC §7, §8): a message the app's backend sends on a
 * user's behalf, with every semantic of a client's `send` (SPEC §5), shown one by one.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatsResponse } from '../../lib/admin/admin-api';
import type { Message } from '../../lib/protocol';
import { historyTable, offlineMessagesTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { runCli } from '../support/cli';
import { TestClient } from '../support/client';
import { startTestStack, untilSettled } from '../support/local-stack';
import { itemsOf, snapshot } from '../support/snapshot';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

function post(body: Record<string, unknown>) {
  return admin(stack, 'POST', '/messages', body);
}

const pigeonhole = (args: string[]) => runCli(stack, args);

describe('POST /v1/messages', () => {
  it('stores the message for its recipient before answering 201, from the user it names', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const answer = await post({ from: alice, type: 'private', target: bob, body: { text: 'hi bob' }, clientMsgId: 'c1' });
    expect(answer).toEqual({ status: 201, body: { id: expect.stringMatching(/^[0-9A-Z]{26}$/), clientMsgId: 'c1', status: 'accepted' } });
    // Read straight after the answer: it was written before it.
    expect(await itemsOf(stack, offlineMessagesTable, bob)).toEqual([
      expect.objectContaining({ id: answer.body.id, type: 'private', from: alice, to: bob, body: '{"text":"hi bob"}', qos: 1 }),
    ]);
    const bobClient = await connect(bob);
    expect(await bobClient.messages(1)).toEqual([expect.objectContaining({ id: answer.body.id, from: alice, body: { text: 'hi bob' } })]);
    await bobClient.close();
  });

  it('keeps one id per clientMsgId: a resend is 200 duplicate with the first id, and stores nothing more', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const request = { from: alice, type: 'private', target: bob, body: 'once', clientMsgId: randomUUID() };
    const first = await post(request);
    const again = await post(request);
    expect(first.status).toBe(201);
    expect(again).toEqual({ status: 200, body: { id: first.body.id, clientMsgId: request.clientMsgId, status: 'duplicate' } });
    expect(await itemsOf(stack, offlineMessagesTable, bob)).toHaveLength(1);
  });

  it('shares its ids with the user’s own sends: a client resend of the same message is a duplicate of it', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const clientMsgId = randomUUID();
    const posted = await post({ from: alice, type: 'private', target: bob, body: 'same', clientMsgId });
    const aliceClient = await connect(alice);
    expect(await aliceClient.request({ action: 'send', type: 'private', target: bob, clientMsgId, body: 'same' })).toMatchObject({
      status: 'duplicate',
      id: posted.body.id,
    });
    await aliceClient.close();
  });

  it('answers 409 CONFLICT for a clientMsgId reused for another message, and stores nothing', async () => {
    const [alice, bob, carol] = [id('alice'), id('bob'), id('carol')];
    const clientMsgId = randomUUID();
    expect((await post({ from: alice, type: 'private', target: bob, body: 'first', clientMsgId })).status).toBe(201);
    const before = await snapshot(stack);
    for (const changed of [{ body: 'second' }, { target: carol }]) {
      const answer = await post({ from: alice, type: 'private', target: bob, body: 'first', clientMsgId, ...changed });
      expect(answer).toEqual({ status: 409, body: { error: { code: 'CONFLICT', message: expect.stringContaining(clientMsgId) } } });
    }
    expect(await snapshot(stack)).toEqual(before);
  });

  it('pushes it to the recipient’s open connections and to every device of the sender', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const [bobPhone, alicePhone, aliceLaptop] = await Promise.all([connect(bob), connect(alice), connect(alice)]);
    await untilSettled(stack); // Alice's devices get a copy that is not stored for them: only once they accept posts.
    const answer = await post({ from: alice, type: 'private', target: bob, body: 'everywhere' });
    for (const client of [bobPhone, alicePhone, aliceLaptop]) {
      expect(await client.messages(1)).toEqual([expect.objectContaining({ id: answer.body.id, from: alice, to: bob, body: 'everywhere' })]);
    }
    // Stored for the recipient only, as a client's send is.
    expect(await itemsOf(stack, offlineMessagesTable, alice)).toEqual([]);
    await Promise.all([bobPhone, alicePhone, aliceLaptop].map((client) => client.close()));
  });

  it('keeps it in the conversation’s history and both users’ recent conversations', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const answer = await post({ from: alice, type: 'private', target: bob, body: 'remember me' });
    const bobClient = await connect(bob);
    const history = await bobClient.request({ action: 'history', type: 'private', target: alice });
    expect((history.messages as Message[]).map((m) => m.id)).toEqual([answer.body.id]);
    const aliceClient = await connect(alice);
    for (const [client, other] of [[bobClient, alice], [aliceClient, bob]] as const) {
      const recent = await client.request({ action: 'recent' });
      expect(recent.conversations).toEqual([expect.objectContaining({ type: 'private', target: other, lastMessage: expect.objectContaining({ id: answer.body.id }) })]);
    }
    await Promise.all([bobClient.close(), aliceClient.close()]);
  });

  it('sends to a group its sender is a member of: stored for the other members, pushed, in the group’s history', async () => {
    const [alice, bob, carol] = [id('alice'), id('bob'), id('carol')];
    const groupId = id('team');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [alice, bob, carol] });
    const bobClient = await connect(bob);
    const answer = await post({ from: alice, type: 'group', target: groupId, body: 'team news' });
    expect(answer.status).toBe(201);
    expect(await bobClient.messages(1)).toEqual([expect.objectContaining({ id: answer.body.id, type: 'group', from: alice, to: groupId })]);
    expect(await itemsOf(stack, offlineMessagesTable, carol)).toEqual([expect.objectContaining({ id: answer.body.id, to: groupId })]);
    expect(await itemsOf(stack, offlineMessagesTable, alice)).toEqual([]);
    expect(await itemsOf(stack, historyTable, `g#${groupId}`)).toEqual([expect.objectContaining({ id: answer.body.id })]);
    await bobClient.close();
  });

  it('refuses 403 a group message from a user who is not a member, and stores nothing', async () => {
    const [alice, mallory] = [id('alice'), id('mallory')];
    const groupId = id('closed');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [alice, id('bob')] });
    const before = await snapshot(stack);
    const answer = await post({ from: mallory, type: 'group', target: groupId, body: 'let me in' });
    expect(answer).toEqual({ status: 403, body: { error: { code: 'FORBIDDEN', message: expect.stringContaining(groupId) } } });
    expect(await snapshot(stack)).toEqual(before);
  });

  it('gives the message its ttlSeconds, as a client send does', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const answer = await post({ from: alice, type: 'private', target: bob, body: 'brief', ttlSeconds: 60 });
    const [item] = await itemsOf(stack, offlineMessagesTable, bob);
    // Stored in whole seconds: 60 s after a sentAt that has milliseconds.
    expect((item?.expiresAt as number) * 1000 - Date.parse(item?.sentAt as string)).toBeGreaterThan(59_000);
    expect((item?.expiresAt as number) * 1000 - Date.parse(item?.sentAt as string)).toBeLessThanOrEqual(61_000);
    expect(item?.id).toBe(answer.body.id);
  });

  it.each([
    ['no from', { type: 'private', target: 'bob', body: 'x' }, 400, 'from'],
    ['a from that is no user id', { from: 'not a user', type: 'private', target: 'bob', body: 'x' }, 400, 'from'],
    ['a chatroom', { from: 'alice', type: 'chatroom', target: 'lobby', body: 'x' }, 400, "must be 'private' or 'group'"],
    ['type system', { from: 'alice', type: 'system', target: 'bob', body: 'x' }, 400, "must be 'private' or 'group'"],
    ['no body', { from: 'alice', type: 'private', target: 'bob' }, 400, 'body is required'],
    ['an empty clientMsgId', { from: 'alice', type: 'private', target: 'bob', body: 'x', clientMsgId: '' }, 400, 'clientMsgId'],
    ['ttlSeconds 0', { from: 'alice', type: 'private', target: 'bob', body: 'x', ttlSeconds: 0 }, 400, 'ttlSeconds'],
    ['a body over 30 KB', { from: 'alice', type: 'private', target: 'bob', body: 'x'.repeat(31 * 1024) }, 413, 'larger than 30 KB'],
  ])('refuses %s, storing nothing', async (_what, request, status, message) => {
    const before = await snapshot(stack);
    const answer = await post(request);
    expect(answer.status).toBe(status);
    expect(answer.body.error.message).toContain(message);
    expect(await snapshot(stack)).toEqual(before);
  });

  it('is counted as a send: accepted, stored, duplicates and conflicts at GET /v1/stats', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const read = async () => (await admin(stack, 'GET', '/stats')).body as StatsResponse;
    const before = await read();
    const clientMsgId = randomUUID();
    await post({ from: alice, type: 'private', target: bob, body: 'a', clientMsgId });
    await post({ from: alice, type: 'private', target: bob, body: 'a', clientMsgId });
    await post({ from: alice, type: 'private', target: bob, body: 'b', clientMsgId });
    const after = await read();
    expect(after.messages.accepted - before.messages.accepted).toBe(1);
    expect(after.messages.stored - before.messages.stored).toBe(1);
    expect(after.messages.duplicates - before.messages.duplicates).toBe(1);
    expect(after.messages.conflicts - before.messages.conflicts).toBe(1);
  });
});

describe('pigeonhole send', () => {
  it('sends a private message from a user, and a group message with --group', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const run = await pigeonhole(['send', alice, bob, '{"text":"from the cli"}']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^Sent [0-9A-Z]{26} from ${alice} to ${bob} \\(accepted\\)\\.\\n$`)) });
    expect((await itemsOf(stack, offlineMessagesTable, bob))[0]).toMatchObject({ from: alice, body: '{"text":"from the cli"}' });

    const groupId = id('crew');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [alice, bob] });
    const group = await pigeonhole(['send', alice, groupId, '"all"', '--group', '--json']);
    expect(JSON.parse(group.stdout)).toMatchObject({ status: 'accepted' });
    expect(await itemsOf(stack, offlineMessagesTable, bob)).toHaveLength(2);
  });

  it('answers a resend with the same --client-msg-id as a duplicate, and fails with the reason on a refusal', async () => {
    const [alice, bob] = [id('alice'), id('bob')];
    const args = ['send', alice, bob, '"hello"', '--client-msg-id', 'cli-1'];
    const first = await pigeonhole(args);
    const again = await pigeonhole(args);
    expect(again.stdout).toBe(first.stdout.replace('(accepted)', '(duplicate)'));
    const conflict = await pigeonhole(['send', alice, bob, '"other"', '--client-msg-id', 'cli-1']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/^pigeonhole: .*cli-1.*\(HTTP 409\)/);
    expect((await pigeonhole(['send', alice, bob, 'not json'])).code).toBe(2);
    expect((await pigeonhole(['send', alice])).code).toBe(2);
  });
});
