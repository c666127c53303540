/**
 * A local stand-in for an API Gateway WebSocket API and its stage, faithful where the service's
 * correctness depends on it:
 * - the REQUEST authorizer runs before `$connect`; a missing identity source is refused with 401
 *   without calling it, `Unauthorized` from it is a 401, a Deny policy a 403, and an output API
 *   Gateway cannot use (no principalId, a context value that is not a string, number or boolean, a
 *   context over 8 KB) a 500, as AWS answers an AuthorizerConfigurationException;
 * - the upgrade completes only after `$connect` returns 2xx; until then, and after close, posts to the
 *   connection answer 410; with an opening delay, posts keep getting 410 for a random while after
 *   `$connect` has returned, as they do on AWS;
 * - routes are selected by the route selection expression, unmatched frames go to `$default`, and a
 *   route with a route response sends its handler's `body` back on the connection;
 * - a frame over 32 KB closes the connection with 1009, a binary frame with 1003, a text frame that
 *   is not UTF-8 with 1007; idle (10 min) and maximum (2 h) connection times apply; `$disconnect`
 *   runs on every close;
 * - the `@connections` management API (POST, GET, DELETE) answers as AWS does, so handlers use the
 *   real `ApiGatewayManagementApiClient` with only an endpoint override.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { listenOn, readBody, replyJson, stopServer } from '../http-server';
import { invoke, localAccountId, localRegion, type LocalFunction } from '../lambda-runtime';
import {
  authorizerEvent,
  connectEvent,
  disconnectEvent,
  gatewayId,
  messageEvent,
  methodArn,
  type ApiIdentity,
  type ConnectionFacts,
  type UpgradeRequest,
} from './events';

/** Routes API Gateway calls for the connection's life, never for a message. */
const lifecycleRoutes = new Set(['$connect', '$disconnect']);

export interface GatewayLimits {
  idleTimeoutMs: number;
  maxConnectionMs: number;
  /** A client's frame. */
  maxFrameBytes: number;
  /** A post to `@connections` (API Gateway splits it into frames). */
  maxMessageBytes: number;
  /** The authorizer's `context`, serialized. */
  maxAuthorizerContextBytes: number;
  /**
   * Frames of one connection handled at once; the rest wait their turn, in order of arrival. Not an
   * AWS quota: on AWS each invocation has a container of its own, so a connection that floods cannot
   * take the machine from the others. Here every handler shares one process, and this keeps a
   * flooding connection to its share of it.
   */
  framesInFlightPerConnection: number;
}

/** API Gateway's quotas for WebSocket APIs, none of which can be raised, and the emulator's share of the machine per connection. */
export const apiGatewayLimits: GatewayLimits = {
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  // A fragmented message could reach 128 KB on AWS, but browsers and `ws` never fragment, so one
  // message is one frame and the emulator checks the message.
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  maxAuthorizerContextBytes: 8 * 1024,
  framesInFlightPerConnection: 2,
};

/** Frames of one connection the emulator holds before it stops reading that connection for a while. */
const maxFramesWaiting = 256;

/** How long after `$connect` returns posts keep getting 410: a uniform draw between the two. */
export interface OpeningDelay {
  minMs: number;
  maxMs: number;
}

/** Reads `0-300ms`, `50-200` or `100ms` (a fixed delay); throws on anything else. */
export function parseOpeningDelay(spec: string): OpeningDelay {
  const match = /^(\d+)(?:ms)?(?:-(\d+)(?:ms)?)?$/.exec(spec.trim());
  const minMs = Number(match?.[1]);
  const maxMs = match?.[2] === undefined ? minMs : Number(match[2]);
  if (!match || !(maxMs >= minMs)) throw new Error(`'${spec}' is not an opening delay: use 0-300ms (a range) or 100ms`);
  return { minMs, maxMs };
}

export interface GatewayRoute {
  fn: LocalFunction;
  /** Send the handler's `body` back on the connection (a route response). */
  replies: boolean;
}

export interface GatewayAuthorizer {
  fn: LocalFunction;
  /** e.g. `route.request.querystring.token` */
  identitySource: string;
}

export interface GatewayOptions {
  host: string;
  port: number;
  stage: string;
  routeSelectionExpression: string;
  limits?: Partial<GatewayLimits>;
  /** Posts keep getting 410 this long after `$connect` returns; none when unset. */
  openingDelay?: OpeningDelay;
  /** One line per connection event, for a person watching `npm start`. */
  log?: (line: string) => void;
}

type ConnectionState = 'connecting' | 'open' | 'closed';

export interface ConnectionEvent {
  connectionId: string;
  principalId: string | undefined;
}

/** What the gateway reports once each step has finished, handlers included. */
export interface GatewayEvents {
  /** The upgrade completed: `$connect` returned 2xx. */
  connected: [ConnectionEvent];
  /** The connection closed and its `$disconnect` handler has returned. */
  disconnected: [ConnectionEvent & { code: number }];
}

interface LocalConnection extends ConnectionFacts {
  state: ConnectionState;
  socket?: WebSocket;
  /** Set when the gateway itself closes the connection: the code `$disconnect` reports. */
  closedByGateway?: { code: number; reason: string };
  authorizer?: Record<string, unknown>;
  /** Posts before this answer 410 (the opening delay). */
  acceptsPostsAt: number;
  lastActiveAt: number;
  timers: NodeJS.Timeout[];
  /** Frames being handled, and those waiting their turn (see GatewayLimits.framesInFlightPerConnection). */
  framesInFlight: number;
  framesWaiting: Buffer[];
}

export class LocalWebSocketGateway {
  readonly events = new EventEmitter<GatewayEvents>();
  private readonly server: Server;
  private readonly sockets = new WebSocketServer({ noServer: true });
  private readonly connections = new Map<string, LocalConnection>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly limits: GatewayLimits;
  private routes = new Map<string, GatewayRoute>();
  private authorizer: GatewayAuthorizer | undefined;
  private address: AddressInfo | undefined;
  private stopping = false;
  /** From the options; tests may change it between connections. */
  openingDelay: OpeningDelay | undefined;

  constructor(private readonly options: GatewayOptions) {
    this.limits = { ...apiGatewayLimits, ...options.limits };
    this.openingDelay = options.openingDelay;
    this.sockets.options.maxPayload = this.limits.maxFrameBytes;
    this.server = createServer((req, res) => void this.handleManagementRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.track(this.handleUpgrade(req, socket, head));
    });
  }

  /** Routes are attached after `listen`, because handlers learn the callback URL before they load. */
  configure(routes: Record<string, GatewayRoute>, authorizer?: GatewayAuthorizer): void {
    this.routes = new Map(Object.entries(routes));
    this.authorizer = authorizer;
  }

  async listen(): Promise<void> {
    this.address = await listenOn(this.server, this.options.host, this.options.port);
  }

  get port(): number {
    if (!this.address) throw new Error('the gateway is not listening');
    return this.address.port;
  }

  /** Where clients connect. */
  get url(): string {
    return `ws://${this.options.host}:${this.port}`;
  }

  /** Where the `@connections` API is served: the equivalent of the stage's callback URL. */
  get callbackUrl(): string {
    return `http://${this.options.host}:${this.port}/${this.options.stage}`;
  }

  get openConnectionCount(): number {
    return [...this.connections.values()].filter((c) => c.state === 'open').length;
  }

  /** Closes every connection (each gets its `$disconnect`), waits for handlers, then stops listening. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const connection of this.connections.values()) closeFromGateway(connection, 1001, 'Going away');
    const closing = [...this.connections.values()].map((connection) => this.closed(connection));
    await withTimeout(Promise.allSettled(closing), 2000);
    for (const connection of this.connections.values()) connection.socket?.terminate();
    await withTimeout(Promise.allSettled([...this.inFlight]), 5000);
    this.sockets.close();
    await stopServer(this.server);
  }

  // --- WebSocket upgrade: authorizer, then $connect, then the handshake --------------------------

  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.stopping || !this.isStagePath(url.pathname)) return refuse(socket, 403, 'Forbidden');

    const request = upgradeRequest(req, url);
    const connection: LocalConnection = {
      connectionId: gatewayId(),
      connectedAt: Date.now(),
      sourceIp: request.sourceIp,
      userAgent: request.userAgent,
      state: 'connecting',
      acceptsPostsAt: Infinity,
      lastActiveAt: Date.now(),
      timers: [],
      framesInFlight: 0,
      framesWaiting: [],
    };
    // A client may leave at any moment of the upgrade. While the authorizer or `$connect` runs, that is
    // noted and acted on once they return; after that, until the socket is handed to `ws`, it is closed
    // here: a connection whose socket is gone must reach `$disconnect`, or its record stays behind.
    let abandoned = false;
    let routed = false;
    socket.once('close', () => {
      abandoned = true;
      if (routed && connection.state === 'connecting') void this.closed(connection, 1006, 'Client left before the connection opened');
    });

    if (this.authorizer) {
      const verdict = await this.authorize(this.authorizer, connection, request);
      if (!verdict.admitted) return refuse(socket, verdict.status, verdict.message);
      connection.authorizer = verdict.context;
    }

    // Known from here on, so that a post before `$connect` returns gets 410 rather than 404.
    this.connections.set(connection.connectionId, connection);
    const connectRoute = this.routes.get('$connect');
    if (connectRoute) {
      const status = await this.runConnectRoute(connectRoute, connection, request);
      if (status < 200 || status > 299) {
        this.connections.delete(connection.connectionId);
        this.log(`refused ${this.who(connection)}: $connect answered ${status}`);
        return refuse(socket, status, status >= 500 ? 'Internal server error' : 'Forbidden');
      }
    }

    routed = true;
    if (abandoned || socket.destroyed || this.stopping) {
      // The client left while `$connect` ran; the application still hears about it.
      await this.closed(connection, 1006, 'Client left before the connection opened');
      socket.destroy();
      return;
    }
    this.sockets.handleUpgrade(req, socket, head, (ws) => this.opened(connection, ws));
  }

  private isStagePath(pathname: string): boolean {
    return pathname === '/' || pathname === `/${this.options.stage}` || pathname === `/${this.options.stage}/`;
  }

  private async authorize(
    authorizer: GatewayAuthorizer,
    connection: LocalConnection,
    request: UpgradeRequest,
  ): Promise<{ admitted: true; context: Record<string, unknown> } | { admitted: false; status: number; message: string }> {
    if (!identitySourceValue(authorizer.identitySource, request)) {
      this.log(`refused a connection: no ${authorizer.identitySource}`);
      return { admitted: false, status: 401, message: 'Unauthorized' };
    }
    const started = Date.now();
    let result: unknown;
    try {
      result = await invoke(authorizer.fn, authorizerEvent(this.api, connection, request));
    } catch (error) {
      const unauthorized = error instanceof Error && error.message === 'Unauthorized';
      this.log(`refused a connection: authorizer ${unauthorized ? 'said Unauthorized' : 'failed'}`);
      return unauthorized
        ? { admitted: false, status: 401, message: 'Unauthorized' }
        : { admitted: false, status: 500, message: 'Internal server error' };
    }
    const problem = authorizerOutputProblem(result, this.limits.maxAuthorizerContextBytes);
    if (problem) {
      // AWS logs an AuthorizerConfigurationException and answers the client 500.
      this.log(`refused a connection: the authorizer's output is invalid (${problem})`);
      return { admitted: false, status: 500, message: 'Internal server error' };
    }
    const decision = evaluatePolicy(result, methodArn(this.api, '$connect'));
    if (decision.effect !== 'Allow') {
      this.log('refused a connection: the authorizer denied it');
      return { admitted: false, status: 403, message: 'Forbidden' };
    }
    return {
      admitted: true,
      context: { ...decision.context, principalId: decision.principalId, integrationLatency: Date.now() - started },
    };
  }

  private async runConnectRoute(route: GatewayRoute, connection: LocalConnection, request: UpgradeRequest) {
    try {
      const response = await invoke(route.fn, connectEvent(this.api, connection, request, connection.authorizer));
      return statusCodeOf(response);
    } catch (error) {
      this.log(`$connect failed: ${(error as Error).message}`);
      return 500;
    }
  }

  // --- An open connection ------------------------------------------------------------------------

  private opened(connection: LocalConnection, socket: WebSocket): void {
    connection.socket = socket;
    connection.state = 'open';
    const delay = this.openingDelay;
    connection.acceptsPostsAt = Date.now() + (delay ? delay.minMs + Math.random() * (delay.maxMs - delay.minMs) : 0);
    this.log(`connected ${this.who(connection)}`);
    this.events.emit('connected', this.describe(connection));
    const goAway = () => closeFromGateway(connection, 1001, 'Going away');
    const idle = setTimeout(goAway, this.limits.idleTimeoutMs).unref();
    const lifetime = setTimeout(goAway, this.limits.maxConnectionMs).unref();
    connection.timers.push(idle, lifetime);

    socket.on('message', (data: RawData, isBinary: boolean) => {
      connection.lastActiveAt = Date.now();
      idle.refresh();
      // API Gateway accepts text frames only.
      if (isBinary) return closeFromGateway(connection, 1003, 'Binary frames are not supported');
      connection.framesWaiting.push(toBuffer(data));
      // Past this many waiting, reading stops until they are handled: TCP holds the client back, so a
      // flood cannot fill this process's memory with frames it has not got to yet.
      if (connection.framesWaiting.length >= maxFramesWaiting) socket.pause();
      this.handleWaiting(connection);
    });
    // `ws` closes by itself with 1009 when a frame exceeds maxPayload and with 1007 when a text frame
    // is not UTF-8, as API Gateway does, and reports it here.
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') connection.closedByGateway = { code: 1009, reason: 'Message too big' };
      if (error.code === 'WS_ERR_INVALID_UTF8') connection.closedByGateway = { code: 1007, reason: 'Invalid frame payload data' };
    });
    socket.on('close', (code: number, reason: Buffer) => {
      // Once the gateway has closed, `ws` stops reading and would report 1006 for the client's answer.
      const cause = connection.closedByGateway ?? { code, reason: reason.toString() };
      this.track(this.closed(connection, cause.code, cause.reason));
    });
  }

  private async receive(connection: LocalConnection, data: Buffer): Promise<void> {
    const body = data.toString('utf8');
    const routeKey = this.selectRoute(body);
    // Messages go to custom routes or $default; `{"action":"$disconnect"}` must not reach $disconnect.
    const selected = this.routes.has(routeKey) && !lifecycleRoutes.has(routeKey) ? routeKey : '$default';
    const route = this.routes.get(selected);
    const event = messageEvent(this.api, connection, connection.authorizer, selected, body);
    if (!route) return this.sendToClient(connection, gatewayError('Forbidden', connection, event.requestContext.requestId));
    try {
      const response = await invoke(route.fn, event);
      const reply = route.replies ? bodyOf(response) : undefined;
      if (reply !== undefined) this.sendToClient(connection, reply);
    } catch (error) {
      this.log(`${selected} failed: ${(error as Error).message}`);
      this.sendToClient(connection, gatewayError('Internal server error', connection, event.requestContext.requestId));
    }
  }

  /** Starts the connection's waiting frames, as many as may be in flight at once, each in turn. */
  private handleWaiting(connection: LocalConnection): void {
    while (connection.framesInFlight < this.limits.framesInFlightPerConnection) {
      const data = connection.framesWaiting.shift();
      if (data === undefined) return;
      if (connection.socket?.isPaused && connection.framesWaiting.length < maxFramesWaiting / 2) connection.socket.resume();
      connection.framesInFlight += 1;
      this.track(
        this.receive(connection, data).finally(() => {
          connection.framesInFlight -= 1;
          this.handleWaiting(connection);
        }),
      );
    }
  }

  /** Evaluates `$request.body.<path>`; anything that is not a JSON object with that value goes to `$default`. */
  private selectRoute(body: string): string {
    const path = this.options.routeSelectionExpression.replace(/^\$request\.body\./, '').split('.');
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return '$default';
    }
    for (const key of path) {
      if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return '$default';
      value = (value as Record<string, unknown>)[key];
    }
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '$default';
  }

  private sendToClient(connection: LocalConnection, text: string): void {
    if (connection.state === 'open') connection.socket?.send(text);
  }

  private closed(connection: LocalConnection, code = 1001, reason = 'Going away'): Promise<void> {
    if (connection.state === 'closed') return Promise.resolve();
    connection.state = 'closed';
    for (const timer of connection.timers) clearTimeout(timer);
    this.connections.delete(connection.connectionId);
    this.log(`disconnected ${this.who(connection)} (${code})`);
    const route = this.routes.get('$disconnect');
    const handled = route
      ? invoke(route.fn, disconnectEvent(this.api, connection, connection.authorizer, code, reason)).then(
          () => undefined,
          (error: Error) => this.log(`$disconnect failed: ${error.message}`),
        )
      : Promise.resolve();
    return handled.then(() => void this.events.emit('disconnected', { ...this.describe(connection), code }));
  }

  // --- The @connections management API -------------------------------------------------------------

  private async handleManagementRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://localhost');
    const match = /^(?:\/[^/]+)?\/@connections\/([^/]+)\/?$/.exec(pathname);
    if (!match?.[1]) return sendJson(res, 404, { message: 'Not Found' });
    const connection = this.connections.get(decodeURIComponent(match[1]));

    const bytes = await readBody(req, this.limits.maxMessageBytes);
    // Past the limit, the rest of the body goes unread: the answer closes the connection.
    if (bytes === undefined) res.setHeader('connection', 'close');
    const body = bytes?.toString('utf8');
    if (!connection || connection.state !== 'open' || !connection.socket) {
      return sendError(res, 410, 'GoneException', `connection is not open`);
    }
    // AWS's advice is to GET a connection to learn whether it is established: both answer 410 until then.
    if ((req.method === 'POST' || req.method === 'GET') && Date.now() < connection.acceptsPostsAt) {
      return sendError(res, 410, 'GoneException', `connection is not open yet`);
    }
    switch (req.method) {
      case 'POST': {
        if (body === undefined) return sendError(res, 413, 'PayloadTooLargeException', 'payload too large');
        await sendText(connection.socket, body);
        return sendJson(res, 200, undefined);
      }
      case 'GET':
        // The wire names are camelCase; the SDK and the CLI present them as ConnectedAt etc.
        return sendJson(res, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      case 'DELETE':
        closeFromGateway(connection, 1000, 'Connection closed by the service');
        return sendJson(res, 204, undefined);
      default:
        return sendError(res, 403, 'ForbiddenException', `${req.method ?? ''} is not supported`);
    }
  }

  // ------------------------------------------------------------------------------------------------

  private get api(): ApiIdentity {
    return {
      apiId: 'local',
      stage: this.options.stage,
      region: localRegion,
      accountId: localAccountId,
      domainName: `${this.options.host}:${this.port}`,
    };
  }

  private describe(connection: LocalConnection): ConnectionEvent {
    const principal = connection.authorizer?.principalId;
    return { connectionId: connection.connectionId, principalId: typeof principal === 'string' ? principal : undefined };
  }

  private who(connection: LocalConnection): string {
    return `${this.describe(connection).principalId ?? 'anonymous'} [${connection.connectionId}]`;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private track(work: Promise<unknown>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }
}

// --- Helpers --------------------------------------------------------------------------------------

function closeFromGateway(connection: LocalConnection, code: number, reason: string): void {
  connection.closedByGateway ??= { code, reason };
  connection.socket?.close(code, reason);
}

function upgradeRequest(req: IncomingMessage, url: URL): UpgradeRequest {
  // API Gateway passes header names as the client sent them; rawHeaders keeps their case.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiValueQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiValueQuery[name] ??= []).push(value);
  }
  const hasQuery = url.searchParams.size > 0;
  return {
    headers,
    multiValueHeaders,
    ...(hasQuery && { queryStringParameters: query, multiValueQueryStringParameters: multiValueQuery }),
    sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
    userAgent: req.headers['user-agent'] ?? '',
  };
}

function identitySourceValue(source: string, request: UpgradeRequest): string | undefined {
  const query = /^route\.request\.querystring\.(.+)$/.exec(source);
  if (query?.[1]) return request.queryStringParameters?.[query[1]] || undefined;
  const header = /^route\.request\.header\.(.+)$/.exec(source);
  if (header?.[1]) {
    const name = header[1].toLowerCase();
    const entry = Object.entries(request.headers).find(([key]) => key.toLowerCase() === name);
    return entry?.[1] || undefined;
  }
  throw new Error(`unsupported identity source ${source}`);
}

/** Why API Gateway could not use the authorizer's output, or undefined if it can. */
function authorizerOutputProblem(result: unknown, maxContextBytes: number): string | undefined {
  if (typeof result !== 'object' || result === null) return 'not an object';
  const { principalId, context } = result as { principalId?: unknown; context?: unknown };
  if (typeof principalId !== 'string' || principalId === '') return 'no principalId';
  if (context === undefined || context === null) return undefined;
  if (typeof context !== 'object' || Array.isArray(context)) return 'context is not an object';
  for (const [key, value] of Object.entries(context)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) return `context.${key} is not a string, number or boolean`;
  }
  const bytes = Buffer.byteLength(JSON.stringify(context));
  return bytes > maxContextBytes ? `context is ${bytes} bytes, over ${maxContextBytes}` : undefined;
}

interface PolicyDecision {
  effect: 'Allow' | 'Deny';
  principalId?: unknown;
  context: Record<string, unknown>;
}

/** An explicit Deny wins; otherwise an Allow of `execute-api:Invoke` on the method ARN is needed. */
function evaluatePolicy(result: unknown, arn: string): PolicyDecision {
  const output = (result ?? {}) as {
    principalId?: unknown;
    context?: Record<string, unknown>;
    policyDocument?: { Statement?: unknown };
  };
  const raw = output.policyDocument?.Statement;
  const statements = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Array<{
    Effect?: string;
    Action?: string | string[];
    Resource?: string | string[];
  }>;
  const applies = (statement: (typeof statements)[number]) =>
    asList(statement.Action).some((action) => ['execute-api:Invoke', 'execute-api:*', '*'].includes(action)) &&
    asList(statement.Resource).some((resource) => globMatches(resource, arn));
  const denied = statements.some((s) => s.Effect === 'Deny' && applies(s));
  const allowed = statements.some((s) => s.Effect === 'Allow' && applies(s));
  return { effect: allowed && !denied ? 'Allow' : 'Deny', principalId: output.principalId, context: output.context ?? {} };
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function globMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

function statusCodeOf(response: unknown): number {
  const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : 200;
}

function bodyOf(response: unknown): string | undefined {
  const body = (response as { body?: unknown } | undefined)?.body;
  return typeof body === 'string' ? body : undefined;
}

/** What API Gateway itself sends when an integration fails or no route matches. */
function gatewayError(message: string, connection: ConnectionFacts, requestId: string): string {
  return JSON.stringify({ message, connectionId: connection.connectionId, requestId });
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

function sendText(socket: WebSocket, text: string): Promise<void> {
  return new Promise((resolve) => socket.send(text, { binary: false }, () => resolve()));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  replyJson(res, status, body, { 'x-amzn-RequestId': gatewayId() });
}

/** The SDK reads the error's name from `x-amzn-ErrorType`, as from AWS. */
function sendError(res: ServerResponse, status: number, errorType: string, message: string): void {
  replyJson(res, status, { message }, { 'x-amzn-ErrorType': errorType, 'x-amzn-RequestId': gatewayId() });
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
