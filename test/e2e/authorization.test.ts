/**
 * The authorization matrix (SPEC §3, §7, §9): every client action and every admin route, tried by
 * every actor that must not succeed. Each row says who, what, and how it is refused; after each group
 * of rows, every table is compared with what it held before: nothing changed.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionsTable } from '../../lib/tables';
import { issueToken } from '../../lib/connecting/tokens';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';
import { snapshot } from '../support/snapshot';

let stack: LocalStack;
let bobsQueue: string[];
const group = 'g-auth';
const room = 'r-auth';

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
  expect((await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: true })).status).toBe(200);
  expect((await admin(stack, 'PUT', `/groups/${group}`, { members: ['alice', 'bob'] })).status).toBe(200);
  // Alice leaves Bob, who is away, two private messages and a group message, and sits in a room.
  const alice = await connectAs('alice');
  for (const [type, target] of [['private', 'bob'], ['private', 'bob'], ['group', group]]) {
    expect(await alice.request({ action: 'send', type, target, clientMsgId: `${type}-${Math.random()}`, body: 'for bob' })).toMatchObject({ status: 'accepted' });
  }
  expect(await alice.request({ action: 'joinRoom', room })).toMatchObject({ type: 'joined' });
  bobsQueue = await queuedIds('bob');
  expect(bobsQueue).toHaveLength(3);
});
afterAll(() => stack?.stop());

async function connectAs(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

/** Bob's queued ids, read as Bob would get them: through a connection's drain, unacked. */
async function queuedIds(userId: string): Promise<string[]> {
  const client = await connectAs(userId);
  const reply = await client.request({ action: 'sync' });
  const ids = client.messageFrames.flatMap((frame) => (frame.messages as Array<{ id: string }>).map((m) => m.id));
  await client.close();
  return [...new Set(ids)].slice(0, reply.count as number);
}

// ---------------------------------------------------------------------------------------------
// Actors without a valid token: refused at the upgrade, so no action ever reaches the service.

const clientActions: Array<Record<string, unknown>> = [
  { action: 'send', type: 'private', target: 'bob', clientMsgId: 'x', body: 'hi' },
  { action: 'send', type: 'group', target: group, clientMsgId: 'x', body: 'hi' },
  { action: 'send', type: 'chatroom', target: room, clientMsgId: 'x', body: 'hi' },
  { action: 'ack', ids: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] },
  { action: 'sync' },
  { action: 'history', type: 'private', target: 'alice' },
  { action: 'history', type: 'group', target: group },
  { action: 'recent' },
  { action: 'getOfflineMessageDuration' },
  { action: 'setOfflineMessageDuration', days: 1 },
  { action: 'joinRoom', room },
  { action: 'leaveRoom', room },
  { action: 'ping' },
];

const secret = () => new TextEncoder().encode(stack.tokenSecret);
const now = () => Math.floor(Date.now() / 1000);

const tokenActors: Array<[string, () => Promise<string | undefined>]> = [
  ['no token', async () => undefined],
  ['an empty token', async () => ''],
  ['an expired token', async () => (await issueToken(stack.tokenSecret, { userId: 'bob', ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) })).token],
  [
    'a tampered token (sub changed to bob, signature kept)',
    async () => {
      const [header, , signature] = (await stack.issueToken('mallory')).split('.');
      const payload = Buffer.from(JSON.stringify({ sub: 'bob', exp: now() + 3600 })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    },
  ],
  [
    'a tampered signature',
    async () => {
      const token = await stack.issueToken('bob');
      return `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    },
  ],
  ['a token signed with another secret', async () => (await issueToken('another-secret-that-is-32-characters-long', { userId: 'bob', ttlSeconds: 3600, now: new Date() })).token],
  [
    'an unsigned token (alg none)',
    async () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'bob', exp: now() + 3600 })).toString('base64url')}.`,
  ],
  ['a token without exp', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').sign(secret())],
  ['a token whose sub is not a user id', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob smith').setIssuedAt(now()).setExpirationTime(now() + 3600).sign(secret())],
  ['a token without iat', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setExpirationTime(now() + 3600).sign(secret())],
  ['a token for a year', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setIssuedAt(now()).setExpirationTime(now() + 365 * 86_400).sign(secret())],
];

describe.each(tokenActors)('%s', (_actor, token) => {
  it.each(clientActions.map((frame) => [frame.action, frame] as const))('cannot %s: the upgrade is refused', async (_action, frame) => {
    const before = await snapshot(stack);
    const value = await token();
    const url = `${stack.wsUrl}/${value === undefined ? '' : `?token=${encodeURIComponent(value)}`}`;
    let status: number;
    try {
      const client = await TestClient.connect(url);
      client.send(frame);
      await client.close();
      throw new Error('connected');
    } catch (error) {
      status = (error as { status?: number }).status ?? 0;
    }
    expect([401, 403]).toContain(status);
    expect(await snapshot(stack)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Mallory: a valid user, but not Bob, not Alice, and not in the group.

interface Row {
  actor: string;
  frame: Record<string, unknown>;
  /** What the reply must look like. */
  reply: Record<string, unknown>;
}

const otherUserRows: Row[] = [
  { actor: 'a non-member', frame: { action: 'send', type: 'group', target: group, clientMsgId: 'm1', body: 'let me in' }, reply: { type: 'error', code: 'FORBIDDEN' } },
  { actor: 'a non-member', frame: { action: 'history', type: 'group', target: group }, reply: { type: 'error', code: 'FORBIDDEN' } },
  { actor: 'another user', frame: { action: 'ack', ids: [] as string[] }, reply: { type: 'acked', ids: [] } },
  { actor: 'another user', frame: { action: 'sync', userId: 'bob' }, reply: { type: 'synced', count: 0 } },
  { actor: 'another user', frame: { action: 'history', type: 'private', target: 'bob', userId: 'alice' }, reply: { type: 'history', messages: [], next: null } },
  { actor: 'another user', frame: { action: 'recent', userId: 'bob' }, reply: { type: 'recent', conversations: [] } },
  { actor: 'another user', frame: { action: 'getOfflineMessageDuration', userId: 'bob' }, reply: { type: 'offlineMessageDuration', days: 7, source: 'app' } },
  { actor: 'another user', frame: { action: 'leaveRoom', room, connectionId: 'alice' }, reply: { type: 'left', room } },
];

describe('another user, and a non-member', () => {
  it.each(otherUserRows.map((row) => [row.actor, row.frame.action, row] as const))(
    '%s cannot %s what is not theirs',
    async (_actor, _action, row) => {
      const before = await snapshot(stack);
      const mallory = await connectAs('mallory');
      // The ack names Bob's messages: whoever they were for, only the caller's own can go.
      const frame = row.frame.action === 'ack' ? { ...row.frame, ids: bobsQueue } : row.frame;
      expect(await mallory.request(frame)).toMatchObject(row.reply);
      expect(mallory.messageFrames).toEqual([]);
      await mallory.close();
      expect(await snapshot(stack)).toEqual(before);
    },
  );

  it('cannot send as someone else: a `from` in the frame is ignored', async () => {
    const mallory = await connectAs('mallory');
    const reply = await mallory.request({ action: 'send', type: 'private', target: 'carol', clientMsgId: 'spoof', body: 'from alice?', from: 'alice' });
    expect(reply).toMatchObject({ status: 'accepted' });
    await mallory.close();
    const carol = await connectAs('carol');
    const [message] = await carol.messages(1);
    expect(message).toMatchObject({ id: reply.id, from: 'mallory' });
    await carol.close();
  });

  it('cannot change another user’s duration: a `userId` in the frame is ignored', async () => {
    const mallory = await connectAs('mallory');
    try {
      expect(await mallory.request({ action: 'setOfflineMessageDuration', days: 1, userId: 'bob' })).toMatchObject({ days: 1, source: 'user' });
      expect((await admin(stack, 'GET', '/users/bob/config')).body).toMatchObject({ inForce: { days: 7, source: 'app' } });
      expect((await admin(stack, 'GET', '/users/mallory/config')).body).toMatchObject({ inForce: { days: 1, source: 'user' } });
    } finally {
      await mallory.close();
      // Mallory's own duration goes again: the rows above expect her on the app's 7 days, in whatever order they run.
      await admin(stack, 'DELETE', '/users/mallory/config');
    }
  });

  it('leaves Bob his whole queue, as he gets it, when another user acks his ids and syncs as him', async () => {
    // On its own, not counting on the rows above to have run first.
    const mallory = await connectAs('mallory');
    expect(await mallory.request({ action: 'ack', ids: bobsQueue })).toMatchObject({ type: 'acked', ids: [] });
    expect(await mallory.request({ action: 'sync', userId: 'bob' })).toMatchObject({ type: 'synced', count: 0 });
    await mallory.close();
    expect(await queuedIds('bob')).toEqual(bobsQueue);
  });
});

// ---------------------------------------------------------------------------------------------
// The admin API without the admin key. (On AWS it is IAM-authorized: test/cdk checks every route.)

const adminRequests: Array<[string, string, unknown]> = [
  ['GET', '/config', undefined],
  ['PATCH', '/config', { offlineMessageDurationDays: 1 }],
  ['GET', '/users/bob/config', undefined],
  ['PUT', '/users/bob/config', { offlineMessageDurationDays: 1 }],
  ['DELETE', '/users/bob/config', undefined],
  ['GET', '/users/bob/offline', undefined],
  ['POST', '/tokens', { userId: 'bob' }],
  ['PUT', `/groups/${group}`, { members: ['mallory'] }],
  ['GET', `/groups/${group}`, undefined],
  ['DELETE', `/groups/${group}`, undefined],
  ['POST', `/groups/${group}/members`, { add: ['mallory'] }],
  ['DELETE', `/groups/${group}/messages?from=alice`, undefined],
  ['POST', '/messages/system', { to: ['bob'], body: 'from mallory' }],
  ['POST', '/messages', { from: 'alice', type: 'private', target: 'bob', body: 'as alice?' }],
  ['POST', '/messages', { from: 'alice', type: 'group', target: group, body: 'as alice?' }],
];

const adminActors: Array<[string, () => Promise<string | null>, number]> = [
  ['no key', async () => null, 401],
  ['an empty key', async () => '', 401],
  ['a wrong key', async () => `ph_${'x'.repeat(32)}`, 403],
  ['the key with one character more', async () => `${stack.adminKey}x`, 403],
  ['the key cut short', async () => stack.adminKey.slice(0, -1), 403],
  ['a user’s token', async () => stack.issueToken('mallory'), 403],
];

describe.each(adminActors)('the admin API, with %s', (_actor, key, status) => {
  it.each(adminRequests)('refuses %s %s, and changes nothing', async (method, path, body) => {
    const before = await snapshot(stack, [connectionsTable]);
    const answer = await admin(stack, method, path, body, { key: await key() });
    expect(answer.status).toBe(status);
    expect(answer.body).toMatchObject({ error: { code: status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message: expect.any(String) } });
    expect(await snapshot(stack, [connectionsTable])).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// The backend, with the admin key, sending as a user (POST /v1/messages): held to what that user may do.

const backendRows: Array<[string, Record<string, unknown>, number, string]> = [
  ['a non-member to the group', { from: 'mallory', type: 'group', target: group, body: 'let me in' }, 403, 'FORBIDDEN'],
  ['anyone to a group that does not exist', { from: 'alice', type: 'group', target: 'g-none', body: 'hello?' }, 403, 'FORBIDDEN'],
  ['as no user id at all', { from: 'alice smith', type: 'private', target: 'bob', body: 'hi' }, 400, 'BAD_REQUEST'],
  ['into a chatroom, which is for connections only', { from: 'alice', type: 'chatroom', target: room, body: 'hi' }, 400, 'BAD_REQUEST'],
];

describe('the backend, sending on a user’s behalf', () => {
  it.each(backendRows)('cannot send %s, and changes nothing', async (_what, request, status, code) => {
    const before = await snapshot(stack);
    const answer = await admin(stack, 'POST', '/messages', request);
    expect(answer).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
    expect(await snapshot(stack)).toEqual(before);
  });
});

it('refuses a key in any other scheme than Bearer', async () => {
  for (const authorization of [`Basic ${stack.adminKey}`, `bearer ${stack.adminKey}`, stack.adminKey, `Bearer  ${stack.adminKey}`]) {
    const response = await fetch(`${stack.adminUrl}/config`, { headers: { authorization } });
    expect([401, 403], authorization).toContain(response.status);
  }
});
