/** The admin API (SPEC §7) on the local stack: keys, validation, settings, users, queues and tokens. */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { logger } from '../../lib/lambda/logger';
import { defaultAppSettings } from '../../lib/retention/settings';
import { configTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { localDocumentClient, startTestStack } from '../support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

describe('the admin key', () => {
  it.each([
    ['no key', null, 401, 'UNAUTHORIZED'],
    ['a wrong key', 'ph_not-the-key', 403, 'FORBIDDEN'],
    ['a key that is only almost right', 'x', 403, 'FORBIDDEN'],
  ] as const)('refuses %s, and changes nothing', async (_label, key, status, code) => {
    const before = (await admin(stack, 'GET', '/config')).body;
    for (const [method, path, body] of [
      ['GET', '/config', undefined],
      ['PATCH', '/config', { maxOfflineMessages: 2 }],
      ['PUT', '/users/alice/config', { offlineMessageDurationDays: 1 }],
      ['POST', '/tokens', { userId: 'alice' }],
    ] as const) {
      const answer = await admin(stack, method, path, body, { key });
      expect(answer).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
    }
    expect((await admin(stack, 'GET', '/config')).body).toEqual(before);
  });
});

describe('bounded requests', () => {
  /**
   * Starts a POST that claims a body of `declaredBytes` and sends it in 64 KB chunks while the server
   * lets it; resolves with the answer and how much had been sent when it came.
   */
  function bigPost(path: string, headers: Record<string, string>, declaredBytes: number | undefined) {
    return new Promise<{ status: number; body: string; sentWhenAnswered: number }>((resolve, reject) => {
      const { hostname, port, pathname } = new URL(`${stack.adminUrl}${path}`);
      let sent = 0;
      const request = httpRequest({
        hostname,
        port,
        path: pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers, ...(declaredBytes !== undefined && { 'content-length': String(declaredBytes) }) },
      });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (sent < (declaredBytes ?? 300 * 1024 * 1024) && !request.destroyed) {
          sent += chunk.length;
          if (!request.write(chunk)) return void request.once('drain', pump);
        }
      };
      request.on('error', () => undefined);
      request.on('response', (response) => {
        const sentWhenAnswered = sent;
        let body = '';
        response.on('data', (data: Buffer) => (body += data.toString()));
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode ?? 0, body, sentWhenAnswered });
        });
        response.on('error', reject);
      });
      pump();
    });
  }

  it('answers a 300 MB POST without the key at once, having read none of it', async () => {
    const answer = await bigPost('/messages/system', {}, 300 * 1024 * 1024);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    // What the socket buffers took before the answer, not the 300 MB.
    expect(answer.sentWhenAnswered).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a body over 1 MB with 413, by its length or, without one, as it arrives', async () => {
    const authorization = `Bearer ${stack.adminKey}`;
    const declared = await bigPost('/messages/system', { authorization }, 1024 * 1024 + 1);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ error: { code: 'TOO_LARGE', message: 'the request body is larger than 1 MB' } });
    const chunked = await bigPost('/messages/system', { authorization }, undefined);
    expect(chunked.status).toBe(413);
    expect(chunked.sentWhenAnswered).toBeLessThan(16 * 1024 * 1024);
    // Up to 1 MB is read, and judged by the route (here: not JSON).
    const within = await admin(stack, 'POST', '/messages/system', undefined, { rawBody: ' '.repeat(1024 * 1024 - 10) + '{' });
    expect(within.status).toBe(400);
  });
});

describe('app settings', () => {
  it('reads the defaults, changes named keys only, and reads back the change', async () => {
    const before = await admin(stack, 'GET', '/config');
    expect(before).toEqual({ status: 200, body: defaultAppSettings });
    try {
      const patched = await admin(stack, 'PATCH', '/config', { historyDays: 30, recentConversationsEnabled: false });
      expect(patched).toEqual({ status: 200, body: { ...defaultAppSettings, historyDays: 30, recentConversationsEnabled: false } });
      expect((await admin(stack, 'GET', '/config')).body).toEqual(patched.body);
    } finally {
      await admin(stack, 'PATCH', '/config', { historyDays: 7, recentConversationsEnabled: true });
    }
  });

  it.each([
    [{ offlineMessageDurationDays: 0 }, 'OUT_OF_RANGE', 'offlineMessageDurationDays must be a whole number 1 to 7 (got 0)'],
    [{ offlineMessageDurationDays: 8 }, 'OUT_OF_RANGE', '(got 8)'],
    [{ offlineMessageDurationDays: 'x' }, 'BAD_REQUEST', '(got "x")'],
    [{ maxOfflineMessages: -1 }, 'OUT_OF_RANGE', 'maxOfflineMessages must be a whole number 1 to 100000 (got -1)'],
    [{ groupOfflineMaxMessages: -3 }, 'OUT_OF_RANGE', 'groupOfflineMaxMessages'],
    [{ maxOfflineMessages: 5, bogus: true }, 'BAD_REQUEST', 'unknown app setting: bogus'],
    [{}, 'BAD_REQUEST', 'name at least one app setting'],
    [[1, 2], 'BAD_REQUEST', 'the body must be a JSON object'],
  ])('refuses %j with 400, a message, and nothing changed', async (change, code, message) => {
    const before = (await admin(stack, 'GET', '/config')).body;
    const answer = await admin(stack, 'PATCH', '/config', change);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message).toContain(message);
    expect((await admin(stack, 'GET', '/config')).body).toEqual(before);
  });

  it('refuses a body that is not JSON', async () => {
    expect(await admin(stack, 'PATCH', '/config', undefined, { rawBody: '{maxOfflineMessages: 5' })).toEqual({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'the body is not valid JSON' } },
    });
  });

  it('falls back to the defaults, with a log line, for an invalid hand edit in the config table', async () => {
    const warnings = vi.spyOn(logger, 'warn');
    const db = localDocumentClient();
    await db.send(
      new PutCommand({
        TableName: stack.tableName(configTable),
        Item: { id: 'app', maxOfflineMessages: 'lots', offlineMessageDurationDays: 9, historyDays: 30, colour: 'red' },
      }),
    );
    try {
      const answer = await admin(stack, 'GET', '/config');
      expect(answer).toEqual({ status: 200, body: { ...defaultAppSettings, historyDays: 30 } });
      const keys = warnings.mock.calls.map(([, details]) => (details as { key?: string }).key);
      expect(keys).toEqual(expect.arrayContaining(['maxOfflineMessages', 'offlineMessageDurationDays', 'colour']));
    } finally {
      warnings.mockRestore();
      await db.send(new PutCommand({ TableName: stack.tableName(configTable), Item: { id: 'app' } }));
    }
  });
});

describe("a user's duration", () => {
  it('is set, read and cleared by the admin, whether or not users may set their own', async () => {
    const id = user('ursula');
    expect((await admin(stack, 'GET', `/users/${id}/config`)).body).toEqual({
      userId: id,
      offlineMessageDurationDays: null,
      inForce: { days: 7, source: 'app' },
    });
    expect((await admin(stack, 'PUT', `/users/${id}/config`, { offlineMessageDurationDays: 3 })).body).toEqual({
      userId: id,
      offlineMessageDurationDays: 3,
      // User-level settings are off, so the app's duration stays in force.
      inForce: { days: 7, source: 'app' },
    });
    await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: true });
    try {
      expect((await admin(stack, 'GET', `/users/${id}/config`)).body.inForce).toEqual({ days: 3, source: 'user' });
      expect((await admin(stack, 'DELETE', `/users/${id}/config`)).body).toMatchObject({ offlineMessageDurationDays: null, inForce: { source: 'app' } });
    } finally {
      await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: false });
    }
  });

  it.each([
    [{ offlineMessageDurationDays: 0 }, 'OUT_OF_RANGE'],
    [{ offlineMessageDurationDays: 8 }, 'OUT_OF_RANGE'],
    [{ offlineMessageDurationDays: 'x' }, 'BAD_REQUEST'],
    [{ offlineMessageDurationDays: 2, colour: 'red' }, 'BAD_REQUEST'],
    [{}, 'BAD_REQUEST'],
  ])('refuses %j, and leaves the user as they were', async (body, code) => {
    const id = user('victor');
    await admin(stack, 'PUT', `/users/${id}/config`, { offlineMessageDurationDays: 2 });
    const answer = await admin(stack, 'PUT', `/users/${id}/config`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe(code);
    expect((await admin(stack, 'GET', `/users/${id}/config`)).body.offlineMessageDurationDays).toBe(2);
  });

  it('refuses a path id that is not a user id', async () => {
    const answer = await admin(stack, 'GET', `/users/${encodeURIComponent('not a user')}/config`);
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  });
});

describe("a user's queue", () => {
  it('sums up what is waiting, by type, oldest and newest', async () => {
    const [sender, reader] = [user('sam'), user('rita')];
    const client = await TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(sender)}`);
    for (const n of [1, 2, 3]) {
      await client.request({ action: 'send', type: 'private', target: reader, clientMsgId: `q${n}`, body: n });
    }
    const { status, body } = await admin(stack, 'GET', `/users/${reader}/offline`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      userId: reader,
      count: 3,
      byType: { private: 3, group: 0, system: 0 },
      pendingDrops: { overflow: 0, expired: 0 },
    });
    expect(Date.parse(body.oldestSentAt)).toBeLessThanOrEqual(Date.parse(body.newestSentAt));
    expect((await admin(stack, 'GET', `/users/${user('nobody')}/offline`)).body).toMatchObject({ count: 0, oldestSentAt: null });
    await client.close();
  });
});

describe('tokens', () => {
  it('issues a token that connects, for as long as asked', async () => {
    const id = user('tess');
    const { status, body } = await admin(stack, 'POST', '/tokens', { userId: id, ttlSeconds: 120 });
    expect(status).toBe(201);
    expect(body).toEqual({ token: expect.any(String), userId: id, expiresAt: expect.any(String) });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(100_000);
    const client = await TestClient.connect(`${stack.wsUrl}/?token=${body.token}`);
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });

  it.each([
    [{}, 'userId must be a string'],
    [{ userId: 'not a user' }, 'userId may only contain'],
    [{ userId: 'tess', ttlSeconds: 10 }, 'ttlSeconds must be at least 60'],
    [{ userId: 'tess', ttlSeconds: 31 * 86400 }, 'ttlSeconds must be at most'],
  ])('refuses %j', async (body, message) => {
    const answer = await admin(stack, 'POST', '/tokens', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain(message);
  });
});

it('answers an unknown route with a JSON 404', async () => {
  expect(await admin(stack, 'GET', '/nope')).toEqual({ status: 404, body: { error: { code: 'NOT_FOUND', message: expect.any(String) } } });
  expect((await admin(stack, 'DELETE', '/config')).status).toBe(404);
});
