/**
 * The WebSocket gateway emulator against API Gateway's documented behaviour, driven by probe handlers
 * and by the real ApiGatewayManagementApiClient.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalWebSocketGateway, parseOpeningDelay, type GatewayLimits } from '../../local/gateway/websocket-gateway';
import type { LambdaHandler, LocalFunction } from '../../local/lambda-runtime';
import WebSocket from 'ws';
import { TestClient } from '../support/client';

type Event = Record<string, any>;

interface Probe {
  fn: LocalFunction;
  events: Event[];
}

function probe(name: string, behaviour: (event: Event) => unknown = () => ({ statusCode: 200 })): Probe {
  const events: Event[] = [];
  const handler: LambdaHandler = async (event) => {
    events.push(event as Event);
    return behaviour(event as Event);
  };
  return { fn: { name, handler, timeoutSeconds: 5 }, events };
}

const allow = (event: Event) => ({
  principalId: 'alice',
  context: { tenant: 'acme' },
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }] },
});

let gateway: LocalWebSocketGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function startGateway(
  probes: { authorizer?: Probe; connect?: Probe; disconnect?: Probe; default?: Probe; echo?: Probe; silent?: Probe },
  limits: Partial<GatewayLimits> = {},
) {
  gateway = new LocalWebSocketGateway({
    host: '127.0.0.1',
    port: 0,
    stage: 'local',
    routeSelectionExpression: '$request.body.action',
    limits,
  });
  await gateway.listen();
  const routes: Record<string, { fn: LocalFunction; replies: boolean }> = {};
  if (probes.connect) routes.$connect = { fn: probes.connect.fn, replies: false };
  if (probes.disconnect) routes.$disconnect = { fn: probes.disconnect.fn, replies: false };
  if (probes.default) routes.$default = { fn: probes.default.fn, replies: true };
  if (probes.echo) routes.echo = { fn: probes.echo.fn, replies: true };
  if (probes.silent) routes.silent = { fn: probes.silent.fn, replies: false };
  gateway.configure(
    routes,
    probes.authorizer && { fn: probes.authorizer.fn, identitySource: 'route.request.querystring.token' },
  );
  return gateway;
}

function managementClient(callbackUrl: string) {
  return new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

const reply = (text: string) => () => ({ statusCode: 200, body: text });

describe('events', () => {
  it('shapes the authorizer, $connect, message and $disconnect events as API Gateway does', async () => {
    const authorizer = probe('authorizer', allow);
    const connect = probe('connect');
    const echo = probe('echo', (event) => ({ statusCode: 200, body: event.body }));
    const disconnect = probe('disconnect');
    const gw = await startGateway({ authorizer, connect, echo, disconnect });

    const client = await TestClient.connect(`${gw.url}/?token=t0k&deviceId=phone&deviceId=tablet`);
    client.send({ action: 'echo', n: 1 });
    await client.next();
    const disconnected = new Promise((resolve) => gw.events.once('disconnected', resolve));
    await client.close(4000);
    await disconnected;

    const [auth] = authorizer.events;
    expect(auth).toMatchObject({
      type: 'REQUEST',
      methodArn: 'arn:aws:execute-api:us-east-1:000000000000:local/local/$connect',
      queryStringParameters: { token: 't0k', deviceId: 'tablet' },
      multiValueQueryStringParameters: { token: ['t0k'], deviceId: ['phone', 'tablet'] },
      stageVariables: {},
      requestContext: { routeKey: '$connect', eventType: 'CONNECT', messageDirection: 'IN', stage: 'local', apiId: 'local' },
    });
    expect(auth?.headers['Sec-WebSocket-Key']).toEqual(expect.any(String));
    expect(auth?.requestContext.identity.sourceIp).toBe('127.0.0.1');
    expect(auth?.requestContext.requestTime).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);

    const [onConnect] = connect.events;
    const connectionId = onConnect?.requestContext.connectionId as string;
    expect(connectionId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(onConnect).toMatchObject({
      queryStringParameters: { token: 't0k', deviceId: 'tablet' },
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$connect',
        eventType: 'CONNECT',
        connectedAt: expect.any(Number),
        domainName: `127.0.0.1:${gw.port}`,
        authorizer: { principalId: 'alice', tenant: 'acme', integrationLatency: expect.any(Number) },
      },
    });

    const [message] = echo.events;
    expect(message).toMatchObject({
      body: '{"action":"echo","n":1}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: 'echo',
        eventType: 'MESSAGE',
        messageId: expect.any(String),
        connectionId,
        connectedAt: onConnect?.requestContext.connectedAt,
        authorizer: { principalId: 'alice', tenant: 'acme' },
      },
    });
    expect(message?.requestContext.requestId).not.toBe(onConnect?.requestContext.requestId);

    expect(disconnect.events[0]).toMatchObject({
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        disconnectStatusCode: 4000,
        connectionId,
        authorizer: { principalId: 'alice' },
      },
    });
  });

  it('leaves the query fields out when the URL has none', async () => {
    const connect = probe('connect');
    const gw = await startGateway({ connect });
    await (await TestClient.connect(gw.url)).close();
    expect(connect.events[0]).not.toHaveProperty('queryStringParameters');
  });
});

describe('the upgrade', () => {
  it('refuses with 401, without calling the authorizer, when the identity source is missing', async () => {
    const authorizer = probe('authorizer', allow);
    const gw = await startGateway({ authorizer });
    expect(await TestClient.refusal(gw.url)).toBe(401);
    expect(await TestClient.refusal(`${gw.url}/?token=`)).toBe(401);
    expect(authorizer.events).toHaveLength(0);
  });

  it('answers 401 when the authorizer throws Unauthorized, 500 for any other error, 403 on Deny', async () => {
    const connect = probe('connect');
    const outcomes: Record<string, () => unknown> = {
      unauthorized: () => {
        throw new Error('Unauthorized');
      },
      broken: () => {
        throw new Error('boom');
      },
      deny: () => ({ principalId: 'x', policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }] } }),
      'allow-elsewhere': () => ({
        principalId: 'x',
        policyDocument: { Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:*:*:other/*' }] },
      }),
    };
    const authorizer = probe('authorizer', (event) => outcomes[event.queryStringParameters.token]?.());
    const gw = await startGateway({ authorizer, connect });
    expect(await TestClient.refusal(`${gw.url}/?token=unauthorized`)).toBe(401);
    expect(await TestClient.refusal(`${gw.url}/?token=broken`)).toBe(500);
    expect(await TestClient.refusal(`${gw.url}/?token=deny`)).toBe(403);
    expect(await TestClient.refusal(`${gw.url}/?token=allow-elsewhere`)).toBe(403);
    expect(connect.events).toHaveLength(0);
  });

  it('answers 500, as AWS does for an AuthorizerConfigurationException, when the authorizer returns what API Gateway cannot use', async () => {
    const connect = probe('connect');
    const outputs: Record<string, (event: Event) => unknown> = {
      'no-principal': (event) => ({ ...allow(event), principalId: undefined }),
      'empty-principal': (event) => ({ ...allow(event), principalId: '' }),
      nested: (event) => ({ ...allow(event), context: { user: { id: 3 } } }),
      array: (event) => ({ ...allow(event), context: { roles: ['a'] } }),
      null: (event) => ({ ...allow(event), context: { gone: null } }),
      'over-8-kb': (event) => ({ ...allow(event), context: { pad: 'x'.repeat(8 * 1024) } }),
      'not-an-object': () => 'Allow',
    };
    const authorizer = probe('authorizer', (event) => outputs[event.queryStringParameters.token]?.(event));
    const gw = await startGateway({ authorizer, connect });
    for (const token of Object.keys(outputs)) expect(await TestClient.refusal(`${gw.url}/?token=${token}`), token).toBe(500);
    expect(connect.events).toHaveLength(0);
  });

  it('admits a context of strings, numbers and booleans just within 8 KB', async () => {
    const connect = probe('connect');
    const authorizer = probe('authorizer', (event) => ({
      ...allow(event),
      context: { n: 1, ok: true, pad: 'x'.repeat(8 * 1024 - '{"n":1,"ok":true,"pad":""}'.length) },
    }));
    const gw = await startGateway({ authorizer, connect });
    await (await TestClient.connect(`${gw.url}/?token=x`)).close();
    expect(connect.events[0]?.requestContext.authorizer).toMatchObject({ n: 1, ok: true, principalId: 'alice' });
  });

  it('admits an Allow with a wildcard resource', async () => {
    const authorizer = probe('authorizer', () => ({
      principalId: 'alice',
      policyDocument: { Statement: [{ Action: ['execute-api:Invoke'], Effect: 'Allow', Resource: ['arn:aws:execute-api:*:*:local/*'] }] },
    }));
    const gw = await startGateway({ authorizer });
    await (await TestClient.connect(`${gw.url}/?token=x`)).close();
  });

  it('refuses the upgrade with the status $connect returns, or 500 when it throws', async () => {
    const connect = probe('connect', (event) => {
      const wanted = event.queryStringParameters?.status as string;
      if (wanted === 'throw') throw new Error('boom');
      return { statusCode: Number(wanted) };
    });
    const gw = await startGateway({ connect });
    expect(await TestClient.refusal(`${gw.url}/?status=400`)).toBe(400);
    expect(await TestClient.refusal(`${gw.url}/?status=403`)).toBe(403);
    expect(await TestClient.refusal(`${gw.url}/?status=throw`)).toBe(500);
    await (await TestClient.connect(`${gw.url}/?status=204`)).close();
  });

  it('runs $disconnect for a client that left while $connect ran, and keeps no ghost of it', async () => {
    let leave: (() => void) | undefined;
    const left = new Promise<void>((resolve) => (leave = resolve));
    const connect = probe('connect', async () => {
      leave?.();
      // The client is gone before `$connect` answers.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { statusCode: 200 };
    });
    const disconnect = probe('disconnect');
    const gw = await startGateway({ connect, disconnect });
    const disconnected = new Promise((resolve) => gw.events.once('disconnected', resolve));
    const upgrade = new WebSocket(gw.url);
    upgrade.on('error', () => undefined);
    await left;
    upgrade.terminate();
    expect(await disconnected).toMatchObject({ code: 1006 });
    expect(disconnect.events).toHaveLength(1);
    expect(disconnect.events[0]?.requestContext.connectionId).toBe(connect.events[0]?.requestContext.connectionId);
    const gone = await managementClient(gw.callbackUrl)
      .send(new GetConnectionCommand({ ConnectionId: connect.events[0]?.requestContext.connectionId }))
      .catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(GoneException);
  });

  it('answers 410 to a post made while $connect is still running, and delivers once it has returned', async () => {
    let postDuringConnect: unknown;
    const management = { client: undefined as ApiGatewayManagementApiClient | undefined };
    const connect = probe('connect', async (event) => {
      postDuringConnect = await management.client
        ?.send(new PostToConnectionCommand({ ConnectionId: event.requestContext.connectionId, Data: 'too early' }))
        .catch((error: unknown) => error);
      return { statusCode: 200 };
    });
    const gw = await startGateway({ connect });
    management.client = managementClient(gw.callbackUrl);

    const client = await TestClient.connect(gw.url);
    expect(postDuringConnect).toBeInstanceOf(GoneException);
    expect((postDuringConnect as GoneException).$metadata.httpStatusCode).toBe(410);

    const connectionId = connect.events[0]?.requestContext.connectionId as string;
    await management.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"hello":1}' }));
    expect(await client.next()).toEqual({ hello: 1 });
    await client.close();
  });
});

describe('the opening delay', () => {
  it('answers 410 to posts for a while after $connect has returned, then delivers', async () => {
    const connect = probe('connect');
    gateway = new LocalWebSocketGateway({
      host: '127.0.0.1',
      port: 0,
      stage: 'local',
      routeSelectionExpression: '$request.body.action',
      openingDelay: { minMs: 200, maxMs: 300 },
    });
    await gateway.listen();
    gateway.configure({ $connect: { fn: connect.fn, replies: false } });
    const management = managementClient(gateway.callbackUrl);
    const client = await TestClient.connect(gateway.url);
    const opened = Date.now();
    const connectionId = connect.events[0]?.requestContext.connectionId as string;

    // The socket is open, and the client may send, but posts are refused as on AWS just after $connect.
    await expect(management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"early":1}' }))).rejects.toBeInstanceOf(GoneException);
    let delivered = false;
    while (!delivered) {
      delivered = await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"late":1}' })).then(
        () => true,
        (error: unknown) => {
          if (!(error instanceof GoneException)) throw error;
          return false;
        },
      );
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(Date.now() - opened).toBeGreaterThanOrEqual(190);
    expect(await client.next()).toEqual({ late: 1 });
    expect(client.received).toHaveLength(1);
    await client.close();
  });

  it('reads its range from 0-300ms, 50-200 or 100ms', () => {
    expect(parseOpeningDelay('0-300ms')).toEqual({ minMs: 0, maxMs: 300 });
    expect(parseOpeningDelay('50-200')).toEqual({ minMs: 50, maxMs: 200 });
    expect(parseOpeningDelay('100ms')).toEqual({ minMs: 100, maxMs: 100 });
    expect(() => parseOpeningDelay('300-100ms')).toThrow(/not an opening delay/);
    expect(() => parseOpeningDelay('soon')).toThrow(/not an opening delay/);
  });
});

describe('the @connections API', () => {
  it('answers GET with the connection, DELETE by closing it, and 410 after close and for unknown ids', async () => {
    const connect = probe('connect');
    const disconnect = probe('disconnect');
    const gw = await startGateway({ connect, disconnect });
    const management = managementClient(gw.callbackUrl);
    const client = await TestClient.connect(gw.url);
    const connectionId = connect.events[0]?.requestContext.connectionId as string;

    const info = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(info.LastActiveAt).toBeInstanceOf(Date);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');

    const disconnected = new Promise((resolve) => gw.events.once('disconnected', resolve));
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    expect((await client.closed).code).toBe(1000);
    await disconnected;
    expect(disconnect.events).toHaveLength(1);

    await expect(management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }))).rejects.toBeInstanceOf(GoneException);
    await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
    await expect(management.send(new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: 'x' }))).rejects.toBeInstanceOf(GoneException);
  });

  it('refuses a post over 128 KB with PayloadTooLargeException', async () => {
    const connect = probe('connect');
    const gw = await startGateway({ connect });
    const client = await TestClient.connect(gw.url);
    const connectionId = connect.events[0]?.requestContext.connectionId as string;
    const management = managementClient(gw.callbackUrl);
    await expect(
      management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'x'.repeat(128 * 1024 + 1) })),
    ).rejects.toBeInstanceOf(PayloadTooLargeException);
    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify('x'.repeat(128 * 1024 - 2)) }));
    expect(((await client.next()) as unknown as string).length).toBe(128 * 1024 - 2);
    await client.close();
  });
});

describe('messages', () => {
  it('handles at most framesInFlightPerConnection of one connection at a time, in order, while another connection is answered at once', async () => {
    let running = 0;
    let peak = 0;
    const release: Array<() => void> = [];
    const echo = probe('echo', async (event) => {
      const { n } = JSON.parse(event.body as string) as { n: number };
      if (n < 0) return { statusCode: 200, body: JSON.stringify({ n }) };
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running -= 1;
      return { statusCode: 200, body: JSON.stringify({ n }) };
    });
    const gw = await startGateway({ echo }, { framesInFlightPerConnection: 3 });
    const [flooder, other] = await Promise.all([TestClient.connect(gw.url), TestClient.connect(gw.url)]);
    for (let n = 0; n < 10; n += 1) flooder.send({ action: 'echo', n });
    await expect.poll(() => echo.events.length).toBe(3);
    // The other connection's frame does not wait behind the flooder's seven.
    other.send({ action: 'echo', n: -1 });
    expect(await other.next()).toEqual({ n: -1 });
    expect(echo.events.map((e) => (JSON.parse(e.body as string) as { n: number }).n)).toEqual([0, 1, 2, -1]);
    while (echo.events.length < 11 || release.length > 0) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const replies = await Promise.all(Array.from({ length: 10 }, () => flooder.next()));
    expect(replies.map((r) => r.n).sort((a, b) => (a as number) - (b as number))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    await Promise.all([flooder.close(), other.close()]);
  });

  it('routes on $request.body.action, falls back to $default, and replies only for routes that return a response', async () => {
    const echo = probe('echo', reply('{"from":"echo"}'));
    const silent = probe('silent', reply('{"from":"silent"}'));
    const fallback = probe('default', reply('{"from":"default"}'));
    const disconnect = probe('disconnect');
    const gw = await startGateway({ echo, silent, default: fallback, disconnect });
    const client = await TestClient.connect(gw.url);

    client.send({ action: 'echo' });
    expect(await client.next()).toEqual({ from: 'echo' });
    // A message never reaches the lifecycle routes, whatever its action says.
    for (const frame of ['{"action":"nope"}', 'not json', '{"no":"action"}', '{"action":{"nested":1}}', '[]', '{"action":"$disconnect"}', '{"action":"$connect"}']) {
      client.send(frame);
      expect(await client.next()).toEqual({ from: 'default' });
    }
    client.send({ action: 'silent' });
    client.send({ action: 'echo' });
    expect(await client.next()).toEqual({ from: 'echo' });
    expect(silent.events).toHaveLength(1);
    expect(fallback.events.map((e) => e.requestContext.routeKey)).toEqual(Array(7).fill('$default'));
    expect(disconnect.events).toHaveLength(0);
    await client.close();
  });

  it('closes the connection with 1003 on a binary frame, without calling any route', async () => {
    const fallback = probe('default', reply('{}'));
    const disconnect = probe('disconnect');
    const gw = await startGateway({ default: fallback, disconnect });
    const client = await TestClient.connect(gw.url);
    const disconnected = new Promise((resolve) => gw.events.once('disconnected', resolve));
    client.sendRaw(Buffer.from([0, 1, 2, 255]), { binary: true });
    expect((await client.closed).code).toBe(1003);
    await disconnected;
    expect(fallback.events).toHaveLength(0);
    expect(disconnect.events[0]?.requestContext.disconnectStatusCode).toBe(1003);
  });

  it('closes the connection with 1007 on a text frame that is not UTF-8', async () => {
    const fallback = probe('default', reply('{}'));
    const disconnect = probe('disconnect');
    const gw = await startGateway({ default: fallback, disconnect });
    const client = await TestClient.connect(gw.url);
    const disconnected = new Promise((resolve) => gw.events.once('disconnected', resolve));
    client.sendRaw(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]));
    expect((await client.closed).code).toBe(1007);
    await disconnected;
    expect(fallback.events).toHaveLength(0);
    expect(disconnect.events[0]?.requestContext.disconnectStatusCode).toBe(1007);
  });

  it('tells the client when an integration fails, as API Gateway does', async () => {
    const echo = probe('echo', () => {
      throw new Error('secret detail');
    });
    const gw = await startGateway({ echo });
    const client = await TestClient.connect(gw.url);
    client.send({ action: 'echo' });
    const frame = await client.next();
    expect(frame).toEqual({ message: 'Internal server error', connectionId: expect.any(String), requestId: expect.any(String) });
    await client.close();
  });

  it('accepts a frame of exactly 32 KB and closes the connection with 1009 on a larger one', async () => {
    const fallback = probe('default', () => ({ statusCode: 200 }));
    const disconnect = probe('disconnect');
    const gw = await startGateway({ default: fallback, disconnect });
    const client = await TestClient.connect(gw.url);
    client.sendRaw('x'.repeat(32 * 1024));
    client.sendRaw('x'.repeat(32 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
    await new Promise((resolve) => (disconnect.events.length ? resolve(null) : gw.events.once('disconnected', resolve)));
    expect(fallback.events[0]?.body).toHaveLength(32 * 1024);
    expect(disconnect.events[0]?.requestContext.disconnectStatusCode).toBe(1009);
  });
});

describe('connection times', () => {
  it('closes an idle connection with 1001, and any frame from the client restarts the idle timer', async () => {
    const fallback = probe('default', () => ({ statusCode: 200 }));
    const gw = await startGateway({ default: fallback }, { idleTimeoutMs: 300 });
    const client = await TestClient.connect(gw.url);
    const opened = Date.now();
    // Keep it busy past several idle periods; then fall silent.
    for (let i = 0; i < 6; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.sendRaw('{}');
    }
    const closed = await client.closed;
    expect(closed.code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(600 + 300);
  });

  it('closes a connection at the maximum connection time, however busy, with 1001', async () => {
    const fallback = probe('default', () => ({ statusCode: 200 }));
    const gw = await startGateway({ default: fallback }, { maxConnectionMs: 500, idleTimeoutMs: 10_000 });
    const client = await TestClient.connect(gw.url);
    const opened = Date.now();
    const busy = setInterval(() => client.sendRaw('{}'), 50);
    const closed = await client.closed;
    clearInterval(busy);
    expect(closed.code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(480);
  });
});
