/**
 * Retention, caps and sessions end to end (SPEC §3, §6), on a controllable clock. Settings are cached
 * for the real 60 s here: every change is followed by a minute on the clock, as in production.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/lambda/logger';
import type { Message } from '../../lib/protocol';
import { defaultAppSettings, type AppSettings } from '../../lib/retention/settings';
import { configTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { TestClock } from '../support/clock';
import { localDocumentClient, startTestStack } from '../support/local-stack';

let stack: LocalStack;
const clock = new TestClock();
const hour = 3_600_000;
const day = 24 * hour;

beforeAll(async () => {
  stack = await startTestStack({ clock });
});
afterAll(() => stack?.stop());
afterEach(async () => {
  await admin(stack, 'PATCH', '/config', { ...defaultAppSettings });
  await advanceClock(61_000);
});

/** Moves the test clock once the drains under way are done: a drain whose window jumped past would cut its connection off. */
async function advanceClock(ms: number): Promise<void> {
  await stack.lambda.idle();
  clock.advance(ms);
}

const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

/** Changes settings, then lets a minute pass: by then every function's cache has them. */
async function settings(change: Partial<AppSettings>): Promise<void> {
  const answer = await admin(stack, 'PATCH', '/config', change);
  expect(answer.status).toBe(200);
  await advanceClock(61_000);
}

async function connect(userId: string, query: Record<string, string> = {}): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?${new URLSearchParams({ token: await stack.issueToken(userId), ...query })}`);
}

async function sendAll(from: TestClient, to: string, bodies: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) {
    const reply = await from.request({ action: 'send', type: 'private', target: to, clientMsgId: randomUUID(), body });
    expect(reply).toMatchObject({ type: 'sent', status: 'accepted' });
    ids.push(reply.id as string);
  }
  return ids;
}

/** Resolves once the drain function has run for this user. */
function drained(userId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (event: { functionName: string; payload: unknown }) => {
      if (event.functionName !== 'drain' || (event.payload as { userId?: string }).userId !== userId) return;
      stack.lambda.events.off('invoked', listener);
      resolve();
    };
    stack.lambda.events.on('invoked', listener);
  });
}

/** What a fresh connection is told by its drain: the dropped frames, then the messages. */
async function whatArrives(userId: string, query: Record<string, string> = {}) {
  const done = drained(userId);
  const client = await connect(userId, query);
  await done;
  const dropped = client.received.filter((f) => f.type === 'dropped');
  const bodies = client.messageFrames.flatMap((f) => (f.messages as Message[]).map((m) => m.body));
  await client.close();
  return { dropped, bodies };
}

describe('users choosing their own duration', () => {
  it('is FORBIDDEN while userLevelSettingsEnabled is false', async () => {
    const client = await connect(user('una'));
    for (const frame of [{ action: 'getOfflineMessageDuration' }, { action: 'setOfflineMessageDuration', days: 3 }]) {
      expect(await client.request(frame)).toMatchObject({ type: 'error', code: 'FORBIDDEN', message: expect.stringContaining('userLevelSettingsEnabled') });
    }
    await client.close();
  });

  it('reads the app’s duration, sets the user’s own, and says which is in force', async () => {
    await settings({ userLevelSettingsEnabled: true, offlineMessageDurationDays: 5 });
    const client = await connect(user('vera'));
    expect(await client.request({ action: 'getOfflineMessageDuration' })).toEqual({
      type: 'offlineMessageDuration',
      days: 5,
      source: 'app',
      requestId: expect.any(String),
    });
    expect(await client.request({ action: 'setOfflineMessageDuration', days: 3 })).toMatchObject({ days: 3, source: 'user' });
    await advanceClock(61_000);
    expect(await client.request({ action: 'getOfflineMessageDuration' })).toMatchObject({ days: 3, source: 'user' });
    await client.close();
  });

  it.each([
    [0, 'OUT_OF_RANGE'],
    [8, 'OUT_OF_RANGE'],
    [-1, 'OUT_OF_RANGE'],
    [2.5, 'BAD_REQUEST'],
    ['x', 'BAD_REQUEST'],
    [null, 'BAD_REQUEST'],
  ])('refuses days %j with %s, and keeps the old setting', async (days, code) => {
    await settings({ userLevelSettingsEnabled: true });
    const client = await connect(user('walt'));
    expect(await client.request({ action: 'setOfflineMessageDuration', days: 4 })).toMatchObject({ days: 4, source: 'user' });
    expect(await client.request({ action: 'setOfflineMessageDuration', days })).toMatchObject({ type: 'error', code });
    await advanceClock(61_000);
    expect(await client.request({ action: 'getOfflineMessageDuration' })).toMatchObject({ days: 4, source: 'user' });
    await client.close();
  });

  it('ignores an invalid hand edit of a user’s item, key by key, with a log line: delivery goes on under the app’s duration', async () => {
    await settings({ userLevelSettingsEnabled: true, offlineMessageDurationDays: 5 });
    const [senderId, wrongType, outOfRange, extraKey] = [user('sid'), user('tia'), user('uma'), user('val')];
    const groupId = user('g');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [senderId, wrongType, outOfRange, extraKey] })).status).toBe(200);
    // As an admin might leave them after editing the Config table in the DynamoDB console.
    const db = localDocumentClient();
    const edits = [
      [wrongType, { offlineMessageDurationDays: '3' }],
      [outOfRange, { offlineMessageDurationDays: 30 }],
      [extraKey, { offlineMessageDurationDays: 2, colour: 'red' }],
    ] as const;
    for (const [userId, edit] of edits) {
      await db.send(new PutCommand({ TableName: stack.tableName(configTable), Item: { id: `user:${userId}`, ...edit } }));
    }
    const warnings = vi.spyOn(logger, 'warn');
    try {
      // A private message reads one user's item; a group message reads every member's at once.
      const sender = await connect(senderId);
      for (const [userId] of edits) await sendAll(sender, userId, ['private']);
      expect(await sender.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body: 'group' })).toMatchObject({
        status: 'accepted',
      });
      await sender.close();

      const inDays = (message: Message) => Math.round((Date.parse(message.expiresAt) - Date.parse(message.sentAt)) / day);
      const seen = async (userId: string) => {
        const client = await connect(userId);
        const lifetimes = (await client.messages(2)).map((m) => [m.body, inDays(m)]);
        const inForce = await client.request({ action: 'getOfflineMessageDuration' });
        await client.close();
        return { lifetimes, inForce: { days: inForce.days, source: inForce.source } };
      };
      const appsFive = { lifetimes: [['private', 5], ['group', 5]], inForce: { days: 5, source: 'app' } };
      expect(await seen(wrongType)).toEqual(appsFive);
      expect(await seen(outOfRange)).toEqual(appsFive);
      // Only the bad key falls back: a valid duration beside an unknown key stays in force.
      expect(await seen(extraKey)).toEqual({ lifetimes: [['private', 2], ['group', 2]], inForce: { days: 2, source: 'user' } });
      expect((await admin(stack, 'GET', `/users/${wrongType}/config`)).body).toEqual({
        userId: wrongType,
        offlineMessageDurationDays: null,
        inForce: { days: 5, source: 'app' },
      });

      const logged = warnings.mock.calls.map(([, details]) => details as Record<string, unknown>);
      expect(logged).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ scope: 'user', key: 'offlineMessageDurationDays', value: '3' }),
          expect.objectContaining({ scope: 'user', key: 'offlineMessageDurationDays', value: 30 }),
          expect.objectContaining({ scope: 'user', key: 'colour' }),
        ]),
      );
    } finally {
      warnings.mockRestore();
    }
  });

  it('makes new messages to the user live as long as the user chose', async () => {
    await settings({ userLevelSettingsEnabled: true });
    const [senderId, readerId] = [user('xena'), user('yuri')];
    const reader = await connect(readerId);
    await reader.request({ action: 'setOfflineMessageDuration', days: 2 });
    await reader.close();
    await advanceClock(61_000);

    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['two days']);
    await sender.close();
    const again = await connect(readerId);
    const [message] = await again.messages(1);
    expect(Date.parse(message?.expiresAt ?? '') - Date.parse(message?.sentAt ?? '')).toBeGreaterThan(2 * day - 1000);
    expect(Date.parse(message?.expiresAt ?? '') - Date.parse(message?.sentAt ?? '')).toBeLessThanOrEqual(2 * day + 1000);
    await again.close();
  });
});

describe('app durations', () => {
  it('hides stored messages at once when the duration is shortened', async () => {
    const [senderId, readerId] = [user('zoe'), user('abe')];
    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['kept for 7 days when sent']);
    await sender.close();

    await settings({ offlineMessageDurationDays: 1 });
    await advanceClock(day);
    const arrived = await whatArrives(readerId);
    expect(arrived).toEqual({ dropped: [{ type: 'dropped', count: 1, reason: 'expired' }], bodies: [] });
  });

  it('applies a lengthened duration to new messages only', async () => {
    await settings({ offlineMessageDurationDays: 1 });
    const [senderId, readerId] = [user('bea'), user('cal')];
    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['sent under one day']);
    await settings({ offlineMessageDurationDays: 7 });
    await sendAll(sender, readerId, ['sent under seven days']);
    await sender.close();

    await advanceClock(day + hour);
    const arrived = await whatArrives(readerId);
    expect(arrived.bodies).toEqual(['sent under seven days']);
    expect(arrived.dropped).toEqual([{ type: 'dropped', count: 1, reason: 'expired' }]);
  });
});

describe('caps', () => {
  it('keeps only the newest maxOfflineMessages: a cap of 5 with 8 queued drops 3, announced first', async () => {
    await settings({ maxOfflineMessages: 5 });
    const [senderId, readerId] = [user('dee'), user('eli')];
    const sender = await connect(senderId);
    await sendAll(sender, readerId, [1, 2, 3, 4, 5, 6, 7, 8]);
    await sender.close();
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body).toMatchObject({ count: 5, pendingDrops: { overflow: 3 } });

    const reader = await connect(readerId);
    expect(await reader.next()).toEqual({ type: 'dropped', count: 3, reason: 'overflow' });
    expect((await reader.messages(5)).map((m) => m.body)).toEqual([4, 5, 6, 7, 8]);
    await reader.close();
    // What was dropped is gone for good.
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body).toMatchObject({ count: 5, pendingDrops: { overflow: 0 } });
  });

  it('applies groupOfflineMaxMessages before maxOfflineMessages: of private and group messages over both, the newest survivors arrive, the rest announced as one overflow', async () => {
    await settings({ groupOfflineMaxMessages: 2, maxOfflineMessages: 5 });
    const [senderId, readerId, groupA, groupB] = [user('kit'), user('lia'), user('ga'), user('gb')];
    for (const groupId of [groupA, groupB]) {
      expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [senderId, readerId] })).status).toBe(200);
    }
    const sender = await connect(senderId);
    const sends = [
      ['private', readerId, 'p1'],
      ['group', groupA, 'a1'],
      ['private', readerId, 'p2'],
      ['group', groupA, 'a2'],
      ['group', groupB, 'b1'],
      ['group', groupA, 'a3'],
      ['group', groupA, 'a4'],
      ['private', readerId, 'p3'],
    ] as const;
    for (const [type, target, body] of sends) {
      expect(await sender.request({ action: 'send', type, target, clientMsgId: randomUUID(), body })).toMatchObject({ status: 'accepted' });
    }
    await sender.close();

    // Newest first: p3, a4 and a3 (group A's two), b1; a2 is over group A's cap, so it takes none of
    // the user's five; p2 is the fifth; a1 is over group A's cap, p1 over the user's. Had the user's
    // cap come first, or counted a2, p2 would have gone and four been dropped.
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body).toMatchObject({ count: 5, pendingDrops: { overflow: 3 } });
    expect(await whatArrives(readerId)).toEqual({
      dropped: [{ type: 'dropped', count: 3, reason: 'overflow' }],
      bodies: ['p2', 'b1', 'a3', 'a4', 'p3'],
    });
  });
});

describe('clean start', () => {
  it('empties the queue before anything is delivered, and keeps what comes after', async () => {
    const [senderId, readerId] = [user('fay'), user('gil')];
    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['old 1', 'old 2', 'old 3']);

    const reader = await connect(readerId, { cleanStart: 'true' });
    expect(await reader.next()).toEqual({ type: 'dropped', count: 3, reason: 'cleanStart' });
    await advanceClock(5);
    await sendAll(sender, readerId, ['new']);
    expect((await reader.messages(1)).map((m) => m.body)).toEqual(['new']);
    expect(reader.messageFrames.flatMap((f) => (f.messages as Message[]).map((m) => m.body))).not.toContain('old 1');
    await Promise.all([sender.close(), reader.close()]);
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body.count).toBe(1);
  });

  it('holds for a sync sent at once, before the drain has run', async () => {
    const [senderId, readerId] = [user('gus'), user('hana')];
    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['old']);
    await sender.close();
    const reader = await connect(readerId, { cleanStart: 'true' });
    const synced = await reader.request({ action: 'sync' });
    expect(synced).toMatchObject({ type: 'synced', count: 0 });
    expect(reader.messageFrames).toEqual([]);
    await reader.close();
  });

  it('refuses a cleanStart that is neither true nor false', async () => {
    const token = await stack.issueToken(user('hal'));
    expect(await TestClient.refusal(`${stack.wsUrl}/?token=${token}&cleanStart=yes`)).toBe(400);
  });
});

describe('session expiry', () => {
  it('drops the queue of a user away longer than sessionExpiryHours, and stores nothing more for them until they return', async () => {
    await settings({ sessionExpiryHours: 1 });
    const [senderId, readerId] = [user('ida'), user('jon')];
    const reader = await connect(readerId);
    const gone = new Promise((resolve) => stack.gateway.events.once('disconnected', resolve));
    await reader.close();
    await gone;

    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['within the hour']);
    await advanceClock(2 * hour);
    // The session has expired: accepted, but not stored.
    await sendAll(sender, readerId, ['after the session expired']);
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body.count).toBe(1);

    const arrived = await whatArrives(readerId);
    expect(arrived).toEqual({ dropped: [{ type: 'dropped', count: 1, reason: 'expired' }], bodies: [] });

    // Back again: messages are stored for them once more.
    await sendAll(sender, readerId, ['welcome back']);
    expect((await whatArrives(readerId)).bodies).toEqual(['welcome back']);
    await sender.close();
  });

  it('keeps the queue of a user who was away less than sessionExpiryHours', async () => {
    await settings({ sessionExpiryHours: 24 });
    const [senderId, readerId] = [user('kay'), user('lou')];
    const reader = await connect(readerId);
    const gone = new Promise((resolve) => stack.gateway.events.once('disconnected', resolve));
    await reader.close();
    await gone;
    const sender = await connect(senderId);
    await sendAll(sender, readerId, ['soon read']);
    await advanceClock(23 * hour);
    await sender.close();
    expect((await whatArrives(readerId)).bodies).toEqual(['soon read']);
  });
});
