import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionsTable } from '../../lib/tables';
import { issueToken } from '../../lib/connecting/tokens';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { localDocumentClient, startTestStack } from '../support/local-stack';

let stack: LocalStack;
const db = localDocumentClient();

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const connectUrl = (query: Record<string, string>) => `${stack.wsUrl}/?${new URLSearchParams(query)}`;

type Entry = { userId: string; connectionId: string; deviceId?: string; connectedAt: string; expiresAt: number };

/** The connection entries on a user's item, as stored. */
function entriesOf(item: Record<string, unknown>): Entry[] {
  return Object.entries(item)
    .filter(([name]) => name.startsWith('connection:'))
    .map(([name, value]) => ({ userId: item.userId as string, connectionId: name.slice('connection:'.length), ...(value as object) }) as Entry);
}

async function recordsOf(userId: string): Promise<Entry[]> {
  const result = await db.send(new GetCommand({ TableName: stack.tableName(connectionsTable), Key: { userId } }));
  return result.Item ? entriesOf(result.Item) : [];
}

/** Every connection entry of any user that opened at or after `since`. */
async function recordsSince(since: Date): Promise<Entry[]> {
  const result = await db.send(new ScanCommand({ TableName: stack.tableName(connectionsTable) }));
  return (result.Items ?? []).flatMap(entriesOf).filter((entry) => Date.parse(entry.connectedAt) >= since.getTime());
}

/** Resolves once the gateway has run `$disconnect` for a connection of this user. */
function disconnected(userId: string) {
  return new Promise<void>((resolve) => {
    const listener = (event: { principalId: string | undefined }) => {
      if (event.principalId !== userId) return;
      stack.gateway.events.off('disconnected', listener);
      resolve();
    };
    stack.gateway.events.on('disconnected', listener);
  });
}

describe('connecting with a token', () => {
  it('connects with a valid token, answers ping with pong, and records the connection', async () => {
    const client = await TestClient.connect(connectUrl({ token: await stack.issueToken('alice'), deviceId: 'laptop' }));
    expect(await client.request({ action: 'ping' })).toEqual({ type: 'pong', requestId: 'r1' });

    const [record] = await recordsOf('alice');
    expect(record).toMatchObject({ userId: 'alice', deviceId: 'laptop' });
    const connectedAt = Date.parse(record?.connectedAt ?? '');
    expect(Math.abs(connectedAt - Date.now())).toBeLessThan(60_000);
    // The record outlives API Gateway's two-hour maximum by nothing.
    expect(record?.expiresAt).toBe(Math.floor(connectedAt / 1000) + 2 * 60 * 60);
    const gone = disconnected('alice');
    await client.close();
    await gone;
  });

  it('refuses missing, forged, expired and garbage tokens at the upgrade, and records nothing', async () => {
    const since = new Date();
    const forged = (await issueToken('a-different-secret-of-thirty-two-chars!', { userId: 'mallory', ttlSeconds: 3600, now: new Date() })).token;
    const expired = (await issueToken(stack.tokenSecret, { userId: 'mallory', ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) })).token;

    expect(await TestClient.refusal(`${stack.wsUrl}/`)).toBe(401);
    expect(await TestClient.refusal(connectUrl({ token: '' }))).toBe(401);
    expect(await TestClient.refusal(connectUrl({ token: forged }))).toBe(401);
    expect(await TestClient.refusal(connectUrl({ token: expired }))).toBe(401);
    expect(await TestClient.refusal(connectUrl({ token: 'garbage' }))).toBe(401);

    expect(await recordsOf('mallory')).toEqual([]);
    expect(await recordsSince(since)).toEqual([]);
  });

  it('refuses a malformed deviceId with 400, and records nothing', async () => {
    const token = await stack.issueToken('dora');
    expect(await TestClient.refusal(connectUrl({ token, deviceId: 'not a device' }))).toBe(400);
    expect(await recordsOf('dora')).toEqual([]);
  });

  it('records both connections of one user, and a close removes only its own', async () => {
    const token = await stack.issueToken('bob');
    const phone = await TestClient.connect(connectUrl({ token, deviceId: 'phone' }));
    const laptop = await TestClient.connect(connectUrl({ token, deviceId: 'laptop' }));
    expect((await recordsOf('bob')).map((r) => r.deviceId).sort()).toEqual(['laptop', 'phone']);

    const gone = disconnected('bob');
    await phone.close();
    await gone;
    expect((await recordsOf('bob')).map((r) => r.deviceId)).toEqual(['laptop']);
    expect(await laptop.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    await laptop.close();
  });

  it('removes the record when the client vanishes without a close frame', async () => {
    const client = await TestClient.connect(connectUrl({ token: await stack.issueToken('carl') }));
    expect(await recordsOf('carl')).toHaveLength(1);
    const gone = disconnected('carl');
    client.terminate();
    await gone;
    expect(await recordsOf('carl')).toEqual([]);
  });
});

describe('bad frames', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await TestClient.connect(connectUrl({ token: await stack.issueToken('erin') }));
  });
  afterAll(() => client?.close());

  it.each([
    ['not JSON', 'hello', 'BAD_REQUEST', 'the frame is not valid JSON'],
    ['a JSON array', '[1,2,3]', 'BAD_REQUEST', 'a frame must be a JSON object'],
    ['a JSON string', '"ping"', 'BAD_REQUEST', 'a frame must be a JSON object'],
    ['no action', '{"requestId":"x1"}', 'BAD_REQUEST', 'action is required and must be a string'],
    ['a numeric action', '{"action":7}', 'BAD_REQUEST', 'action is required and must be a string'],
    ['an unknown action', '{"action":"teleport","requestId":"x2"}', 'UNKNOWN_ACTION', "unknown action 'teleport'"],
    ['a __proto__ action', '{"action":"__proto__"}', 'UNKNOWN_ACTION', "unknown action '__proto__'"],
  ])('answers %s with %s, and the connection stays usable', async (_label, frame, code, message) => {
    client.send(frame);
    const reply = await client.next((f) => f.type === 'error');
    expect(reply).toMatchObject({ type: 'error', code, message });
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
  });

  it('echoes requestId on errors when it is valid, and refuses one that is too long', async () => {
    client.send({ action: 'teleport', requestId: 'mine' });
    expect(await client.next((f) => f.requestId === 'mine')).toMatchObject({ code: 'UNKNOWN_ACTION' });

    client.send({ action: 'ping', requestId: 'x'.repeat(65) });
    expect(await client.next((f) => f.type === 'error')).toEqual({
      type: 'error',
      code: 'BAD_REQUEST',
      message: 'requestId must be at most 64 characters',
    });
  });

  // API Gateway closes the connection itself, without calling any route, for each of these.
  it.each([
    ['a browser-sized 40 KB frame', 'fred', 1009, JSON.stringify({ action: 'ping', pad: 'x'.repeat(40 * 1024) }), false],
    ['a binary frame', 'gina', 1003, Buffer.from('{"action":"ping"}'), true],
    ['a text frame that is not UTF-8', 'hugo', 1007, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false],
  ] as const)('closes a connection that sends %s, with %i, and forgets it', async (_label, userId, code, frame, binary) => {
    const token = await stack.issueToken(userId);
    const sender = await TestClient.connect(connectUrl({ token }));
    const gone = disconnected(userId);
    sender.sendRaw(frame, { binary });
    expect((await sender.closed).code).toBe(code);
    await gone;
    expect(await recordsOf(userId)).toEqual([]);
  });
});

describe('$disconnect', () => {
  /** AWS's own sample `$disconnect` event (API Gateway developer guide): no `authorizer` in it. */
  const sampleEvent = (connectionId: string) => ({
    headers: { Host: 'abcd1234.execute-api.us-east-1.amazonaws.com', 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' },
    multiValueHeaders: { Host: ['abcd1234.execute-api.us-east-1.amazonaws.com'], 'x-api-key': [''], 'X-Forwarded-For': [''], 'x-restapi': [''] },
    requestContext: {
      routeKey: '$disconnect',
      disconnectStatusCode: 1005,
      eventType: 'DISCONNECT',
      extendedRequestId: 'ABCD1234=',
      requestTime: '09/Feb/2024:18:30:22 +0000',
      messageDirection: 'IN',
      disconnectReason: 'Client-side close frame status not set',
      stage: 'prod',
      connectedAt: 1707503357621,
      requestTimeEpoch: 1707503422904,
      identity: { sourceIp: '192.0.2.1' },
      requestId: 'ABCD1234=',
      domainName: 'abcd1234.execute-api.us-east-1.amazonaws.com',
      connectionId,
      apiId: 'abcd1234',
    },
    isBase64Encoded: false,
  });

  it('handles an event without authorizer context: answers 200 and leaves the record to expire', async () => {
    const token = await stack.issueToken('ida');
    const client = await TestClient.connect(connectUrl({ token }));
    const [record] = await recordsOf('ida');
    const lambda = new LambdaClient({ endpoint: stack.lambda.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const result = await lambda.send(
      new InvokeCommand({ FunctionName: 'disconnect', Payload: new TextEncoder().encode(JSON.stringify(sampleEvent(record?.connectionId ?? ''))) }),
    );
    expect(result.FunctionError).toBeUndefined();
    expect(JSON.parse(new TextDecoder().decode(result.Payload))).toEqual({ statusCode: 200 });
    // Nothing could be removed without the user; the record expires on its own (or on the first 410).
    expect(await recordsOf('ida')).toHaveLength(1);
    expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
    await client.close();
  });
});
