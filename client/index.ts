/**
 * `pigeonhole/client` (SPEC §10): one client for browsers and Node, on the frames of SPEC §4 and the
 * delivery semantics of §5. What it takes off the app:
 * - one connection at a time, in states connecting → open → reconnecting → … → closed, with exponential
 *   backoff and full jitter, and `token()` asked again for every attempt;
 * - each message handed to the app once per id, in arrival order, and acked once every listener has
 *   returned (at-least-once delivery repeats messages across reconnects): what a drain delivered with
 *   one `ack` by bound once its `drained` frame comes, anything else by ids;
 * - sends kept in an outbox and resent with the same `clientMsgId` until answered (the server answers
 *   a resend `duplicate` with the original id);
 * - API Gateway's limits: a ping well within its 10-minute idle timeout, and a new connection opened
 *   before its 2-hour maximum, the old one closed only once the new one is open.
 *
 * No runtime dependency: the protocol module is imported for its types only.
 */
import type { DroppedReason, ErrorCode, HistoryFrame, Message, ServerFrame } from '../lib/protocol';
import { memoryOutbox, type OutboxStore, type OutgoingSend } from './outbox';

export { localStorageOutbox, memoryOutbox, type KeyValueStorage, type OutboxStore, type OutgoingSend } from './outbox';
export type { DroppedReason, ErrorCode, Message } from '../lib/protocol';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * The wire codes, and what only the client can tell: UNAUTHORIZED (repeated refused upgrades; a browser
 * sees a refused upgrade only as close code 1006), TIMEOUT (no reply in time), CLOSED (close() came
 * first), REPLACED (the server closed this connection for a newer one), LISTENER (a listener threw).
 */
export type ClientErrorCode = ErrorCode | 'UNAUTHORIZED' | 'TIMEOUT' | 'CLOSED' | 'REPLACED' | 'LISTENER';

export class PigeonholeError extends Error {
  override readonly name = 'PigeonholeError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ClientEvents {
  message: Message;
  dropped: { count: number; reason: DroppedReason };
  state: ConnectionState;
  error: PigeonholeError;
  /**
   * A send left in the outbox by an earlier page or client, settled by this one: its `sent` reply, or
   * the definitive error that refused it. No promise of this page waits for it, so this is how the app
   * hears that its "sending…" message went out.
   */
  resent: { clientMsgId: string; result: SendResult } | { clientMsgId: string; error: PigeonholeError };
}

/** The part of the WebSocket API (browsers, Node 22, `ws`) the client uses. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `never` parameters accept the browser's, undici's and `ws`'s event types alike.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface ClientOptions {
  /** `ws://127.0.0.1:3001` locally, or the stack's WebSocketUrl. */
  url: string;
  /** A token, or a function asked for one before every connection attempt. */
  token: string | (() => string | Promise<string>);
  deviceId?: string;
  /** Empty the offline queue before the first connection delivers anything (not on reconnects). */
  cleanStart?: boolean;
  /** Ack each message once every 'message' listener has returned (default true). */
  autoAck?: boolean;
  /** The WebSocket class (`ws` on Node 20); the global one by default. */
  WebSocket?: WebSocketConstructor;
  reconnect?: { minDelayMs?: number; maxDelayMs?: number };
  /** Where unanswered sends wait; `localStorageOutbox()` survives a page reload. */
  outbox?: OutboxStore;
  /** API Gateway closes a connection after 2 hours; the client replaces it a little before. */
  maxConnectionMs?: number;
  /** Under API Gateway's 10-minute idle timeout. */
  pingIntervalMs?: number;
  /** How long a request waits for its reply (sends are retried instead). */
  requestTimeoutMs?: number;
  /** Failed attempts in a row, before any opens, after which 'error' says UNAUTHORIZED. */
  unauthorizedAfter?: number;
  /** How many message ids are remembered to drop repeats. */
  seenIdsLimit?: number;
}

export interface SendInput {
  type: OutgoingSend['type'];
  target: string;
  body: unknown;
  qos?: 0 | 1;
  ttlSeconds?: number;
  /** Generated when absent; reuse one to make a send idempotent across page loads. */
  clientMsgId?: string;
}
export type SendResult = Pick<Reply<'sent'>, 'id' | 'status' | 'clientMsgId'>;
export type HistoryQuery = Pick<HistoryFrame, 'type' | 'target' | 'before' | 'limit'>;

type Reply<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
type ClientFrame = { action: string } & Record<string, unknown>;
type Listener<K extends keyof ClientEvents> = (value: ClientEvents[K]) => unknown;
type Timer = ReturnType<typeof setTimeout>;

interface Connection {
  socket: WebSocketLike;
  opened: boolean;
  /** Closed on purpose (replaced by a newer one of ours, or close()): no reconnect follows. */
  retiring: boolean;
  /** The server announced it closes this connection for a newer one (maxConnectionsPerUser). */
  replacedByServer: boolean;
  timers: Timer[];
  pongTimer?: Timer;
  closed: Promise<void>;
  markClosed: () => void;
  /** Messages of this connection's drain handed to the app, to be acked by bound at its `drained` frame. */
  drainAcks: string[];
  /** A listener threw for one of them: a bound would cover it, so they are acked by ids instead. */
  drainFailed: boolean;
}

/** What waits to be handed to the app, in arrival order: a message, or the end of a connection's drain. */
type InboxEntry = { message: Message; drainedOn?: Connection } | { drained: string; connection: Connection };

interface PendingRequest {
  frame: ClientFrame;
  resolve: (reply: ServerFrame) => void;
  reject: (error: PigeonholeError) => void;
  /** The connection the frame last went out on. */
  sentOn?: Connection;
  timers: Timer[];
  attemptTimer?: Timer;
  /** Waiting out RATE_LIMITED or a backoff: not sent again before its timer fires. */
  waiting: boolean;
  /** Sends never time out: they are retried until answered or refused. */
  isSend: boolean;
  attempts: number;
}

const OPEN = 1;
/** API Gateway's frame size: a larger frame closes the connection (1009). */
const frameMaxBytes = 32 * 1024;
const ackMaxIds = 100;
const ackDelayMs = 100;
const sendsInFlight = 16;
/** Wire codes worth another try: the send is stored at most once whatever happens. */
const retriedCodes: ReadonlySet<string> = new Set(['RATE_LIMITED', 'INTERNAL']);

export class PigeonholeClient {
  private readonly options: Required<Omit<ClientOptions, 'deviceId' | 'cleanStart' | 'reconnect' | 'WebSocket'>> & {
    minDelayMs: number;
    maxDelayMs: number;
  };
  private readonly socketClass: WebSocketConstructor;
  private readonly deviceId: string | undefined;
  private readonly outbox: OutboxStore;
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<K>> } = {
    message: new Set(),
    dropped: new Set(),
    state: new Set(),
    error: new Set(),
    resent: new Set(),
  };
  private currentState: ConnectionState = 'closed';
  private stopped = true;
  private cleanStartPending: boolean;
  private current: Connection | undefined;
  /** A connection attempt (token, then upgrade) is under way: at most one at a time. */
  private attempting = false;
  private readonly connections = new Set<Connection>();
  private failuresInARow = 0;
  private reconnectTimer: Timer | undefined;
  private openWaiters: Array<{ resolve: () => void; reject: (error: PigeonholeError) => void }> = [];
  private readonly pending = new Map<string, PendingRequest>();
  private nextRequestId = 0;
  private readonly rooms = new Set<string>();
  private outboxLoaded: Promise<void> | undefined;
  /** Message id → whether it was acked; in insertion order, so the oldest is forgotten first. */
  private readonly seen = new Map<string, boolean>();
  private readonly inbox: InboxEntry[] = [];
  /** The dispatch under way, if any: resolves once the message in hand has been through every listener. */
  private dispatching: Promise<void> | undefined;
  private readonly acksDue = new Set<string>();
  /** Ack frames sent and not yet answered: close() waits for them rather than cut them off. */
  private readonly acksInFlight = new Set<Promise<unknown>>();
  private ackTimer: Timer | undefined;

  constructor(options: ClientOptions) {
    this.options = {
      url: options.url,
      token: options.token,
      autoAck: options.autoAck ?? true,
      outbox: options.outbox ?? memoryOutbox(),
      maxConnectionMs: options.maxConnectionMs ?? 2 * 60 * 60 * 1000,
      pingIntervalMs: options.pingIntervalMs ?? 4 * 60 * 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      unauthorizedAfter: options.unauthorizedAfter ?? 3,
      seenIdsLimit: options.seenIdsLimit ?? 10_000,
      minDelayMs: options.reconnect?.minDelayMs ?? 500,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 20_000,
    };
    const socketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!socketClass) throw new Error('no global WebSocket here: pass the WebSocket option (e.g. `ws` on Node 20)');
    this.socketClass = socketClass;
    this.outbox = this.options.outbox;
    this.cleanStartPending = options.cleanStart ?? false;
    this.deviceId = options.deviceId;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Adds a listener; the function returned removes it. */
  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): () => void {
    this.listeners[event].add(listener);
    // Messages wait for a listener rather than be acked unseen.
    if (event === 'message') void this.dispatch();
    return () => this.off(event, listener);
  }

  off<K extends keyof ClientEvents>(event: K, listener: Listener<K>): void {
    this.listeners[event].delete(listener);
  }

  /** Resolves once open; from then on the client reconnects by itself until close(). */
  connect(): Promise<void> {
    if (this.currentState === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => this.openWaiters.push({ resolve, reject }));
    if (this.stopped) {
      this.stopped = false;
      this.setState('connecting');
      this.outboxLoaded ??= this.loadOutbox();
      void this.outboxLoaded.then(() => this.openSocket());
    }
    return opened;
  }

  /** Resolves with the server's id once the message is stored (`accepted`) or known (`duplicate`). */
  async send(input: SendInput): Promise<SendResult> {
    const frame: OutgoingSend = {
      action: 'send',
      type: input.type,
      target: input.target,
      clientMsgId: input.clientMsgId ?? newClientMsgId(),
      body: input.body,
      ...(input.qos !== undefined && { qos: input.qos }),
      ...(input.ttlSeconds !== undefined && { ttlSeconds: input.ttlSeconds }),
    };
    // Sent, it would close the connection and come back from the outbox forever.
    const bytes = new TextEncoder().encode(JSON.stringify({ ...frame, requestId: 'r'.repeat(16) })).length;
    if (bytes > frameMaxBytes) {
      throw new PigeonholeError('TOO_LARGE', `the send frame would be ${bytes} bytes; API Gateway takes at most ${frameMaxBytes}`);
    }
    await this.outboxLoaded;
    await this.outbox.put(frame);
    const { id, status, clientMsgId } = await this.request(frame, 'sent', true);
    return { id, status, clientMsgId };
  }

  /** Acks by hand (with `autoAck: false`), at most 100 ids a frame. */
  async ack(ids: readonly string[]): Promise<void> {
    for (const id of ids) if (this.seen.has(id)) this.seen.set(id, true);
    const frames: Array<Promise<unknown>> = [];
    for (let i = 0; i < ids.length; i += ackMaxIds) frames.push(this.request({ action: 'ack', ids: ids.slice(i, i + ackMaxIds) }, 'acked'));
    await Promise.all(frames);
  }

  /** Asks for the offline queue again; resolves with how many messages the server sent. */
  async sync(): Promise<number> {
    return (await this.request({ action: 'sync' }, 'synced')).count;
  }

  /** Every message of the conversation, newest first, page after page. */
  async *history(query: HistoryQuery): AsyncGenerator<Message, void, undefined> {
    let before = query.before;
    do {
      const page = await this.request(
        {
          action: 'history',
          type: query.type,
          target: query.target,
          ...(before !== undefined && { before }),
          ...(query.limit !== undefined && { limit: query.limit }),
        },
        'history',
      );
      yield* page.messages;
      before = page.next ?? undefined;
    } while (before !== undefined);
  }

  async recent(limit?: number): Promise<Reply<'recent'>['conversations']> {
    return (await this.request({ action: 'recent', ...(limit !== undefined && { limit }) }, 'recent')).conversations;
  }

  async getOfflineMessageDuration(): Promise<Pick<Reply<'offlineMessageDuration'>, 'days' | 'source'>> {
    const { days, source } = await this.request({ action: 'getOfflineMessageDuration' }, 'offlineMessageDuration');
    return { days, source };
  }

  async setOfflineMessageDuration(days: number): Promise<Pick<Reply<'offlineMessageDuration'>, 'days' | 'source'>> {
    const reply = await this.request({ action: 'setOfflineMessageDuration', days }, 'offlineMessageDuration');
    return { days: reply.days, source: reply.source };
  }

  /** Joins a chatroom; the client joins it again after every reconnect. */
  async joinRoom(room: string): Promise<void> {
    this.rooms.add(room);
    try {
      await this.request({ action: 'joinRoom', room }, 'joined');
    } catch (error) {
      if (error instanceof PigeonholeError && !['TIMEOUT', 'CLOSED'].includes(error.code)) this.rooms.delete(room);
      throw error;
    }
  }

  async leaveRoom(room: string): Promise<void> {
    this.rooms.delete(room);
    await this.request({ action: 'leaveRoom', room }, 'left');
  }

  /**
   * Acks what the app has already handled, then closes. Unanswered sends stay in the outbox (their
   * promises reject with CLOSED), for the next connect() or, with a persistent outbox, the next page.
   */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    // Not yet handed to the app, so not acked: they come again on the next connection.
    this.inbox.length = 0;
    // The message in hand is acked if its listeners finish soon; a listener that awaits close() itself
    // would otherwise wait for itself.
    if (this.dispatching) await within(this.dispatching, 2000);
    // A drain whose `drained` frame has not come yet: what the app handled of it is acked by ids.
    for (const connection of this.connections) for (const id of connection.drainAcks.splice(0)) this.acksDue.add(id);
    if (this.current?.socket.readyState === OPEN) await this.flushAcks();
    // Acks sent earlier and still unanswered too: settled as closed, the server might not have them.
    await within(Promise.all(this.acksInFlight), 5000);
    const closing = [...this.connections].map((connection) => this.retire(connection));
    const closed = new PigeonholeError('CLOSED', 'the client was closed');
    for (const request of this.pending.values()) this.settle(request, undefined, closed);
    for (const waiter of this.openWaiters.splice(0)) waiter.reject(closed);
    this.current = undefined;
    this.outboxLoaded = undefined;
    this.setState('closed');
    await Promise.all(closing);
  }

  // --- Connections --------------------------------------------------------------------------------

  private async openSocket(): Promise<void> {
    if (this.stopped || this.attempting) return;
    this.attempting = true;
    let socket: WebSocketLike;
    try {
      const token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
      if (this.stopped) return void (this.attempting = false);
      const url = new URL(this.options.url);
      url.searchParams.set('token', token);
      if (this.deviceId) url.searchParams.set('deviceId', this.deviceId);
      if (this.cleanStartPending) url.searchParams.set('cleanStart', 'true');
      socket = new this.socketClass(url.toString());
    } catch (error) {
      this.attempting = false;
      return this.attemptFailed(error);
    }
    let markClosed = () => undefined as void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const connection: Connection = { socket, opened: false, retiring: false, replacedByServer: false, timers: [], closed, markClosed, drainAcks: [], drainFailed: false };
    this.connections.add(connection);
    // `ws` has no handshake timeout of its own, and a half-open TCP connection may never fail.
    connection.timers.push(setTimeout(() => connection.opened || this.abandon(connection), this.options.requestTimeoutMs));
    socket.onopen = () => this.opened(connection);
    socket.onmessage = (event: { data: unknown }) => {
      if (typeof event.data === 'string') this.received(connection, event.data);
    };
    socket.onclose = () => this.socketClosed(connection);
    // Every 'error' is followed by 'close', which is where the client acts.
    socket.onerror = () => undefined;
  }

  private opened(connection: Connection): void {
    if (this.stopped) return void this.retire(connection);
    connection.opened = true;
    this.attempting = false;
    this.failuresInARow = 0;
    this.cleanStartPending = false;
    const previous = this.current;
    this.current = connection;

    const { maxConnectionMs, pingIntervalMs, requestTimeoutMs } = this.options;
    // Replaced with time to spare: API Gateway's clock started a little before ours.
    const replaceAfterMs = maxConnectionMs - Math.min(5 * 60 * 1000, maxConnectionMs / 5);
    connection.timers.push(
      setTimeout(() => {
        if (this.current === connection) void this.openSocket();
      }, replaceAfterMs),
      setInterval(() => {
        if (this.current !== connection || connection.pongTimer) return;
        this.transmit(connection, { action: 'ping', requestId: 'ping' });
        // Any frame clears it; silence means a dead connection that may never report 'close'.
        connection.pongTimer = setTimeout(() => this.abandon(connection), requestTimeoutMs);
      }, pingIntervalMs),
    );

    this.pump();
    this.flushAcks();
    const rejoined = [...this.rooms].map((room) =>
      this.request({ action: 'joinRoom', room }, 'joined').catch((error: PigeonholeError) => error.code === 'CLOSED' || this.emit('error', error)),
    );
    void Promise.all(rejoined).then(() => {
      if (this.current !== connection || this.stopped) return;
      // The old connection closes only now: nothing reaches the app late, and rooms have no gap.
      if (previous && previous !== connection) void this.retire(previous);
      this.setState('open');
      for (const waiter of this.openWaiters.splice(0)) waiter.resolve();
    });
  }

  private socketClosed(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    if (!connection.opened) this.attempting = false;
    connection.markClosed();
    for (const timer of connection.timers) clearTimeout(timer);
    clearTimeout(connection.pongTimer);
    // Whatever went out on it and got no answer goes out again on the next connection.
    for (const request of this.pending.values()) if (request.sentOn === connection) request.sentOn = undefined;
    this.pump();
    if (this.stopped || connection.retiring) return;
    if (!connection.opened) return this.attemptFailed(undefined);
    if (this.current !== connection) return;
    this.current = undefined;
    if (connection.replacedByServer) {
      void this.close();
      this.emit('error', new PigeonholeError('REPLACED', 'the server closed this connection for a newer one of the same user'));
      return;
    }
    this.setState('reconnecting');
    // A replacement already under way becomes the next connection.
    if (!this.attempting) this.scheduleAttempt(0);
  }

  private attemptFailed(cause: unknown): void {
    this.failuresInARow += 1;
    if (this.failuresInARow === this.options.unauthorizedAfter) {
      this.emit(
        'error',
        new PigeonholeError('UNAUTHORIZED', `${this.failuresInARow} connection attempts in a row failed: the token may be refused, or the server unreachable`, {
          cause,
        }),
      );
    }
    if (!this.stopped) this.scheduleAttempt(this.failuresInARow);
  }

  private scheduleAttempt(failures: number): void {
    clearTimeout(this.reconnectTimer);
    const { minDelayMs, maxDelayMs } = this.options;
    // Full jitter: clients cut off together do not come back together.
    const delay = Math.random() * Math.min(maxDelayMs, minDelayMs * 2 ** failures);
    this.reconnectTimer = setTimeout(() => void this.openSocket(), delay);
  }

  /** Closes on purpose; resolves once the socket has closed (or after a second). */
  private retire(connection: Connection): Promise<void> {
    connection.retiring = true;
    try {
      connection.socket.close(1000);
    } catch {
      // Already closing.
    }
    return within(connection.closed, 1000).then(() => this.socketClosed(connection));
  }

  /** A connection that stopped answering: treated as closed now, not when TCP notices. */
  private abandon(connection: Connection): void {
    try {
      connection.socket.close(4000);
    } catch {
      // Already closing.
    }
    this.socketClosed(connection);
  }

  // --- Frames -------------------------------------------------------------------------------------

  private received(connection: Connection, text: string): void {
    clearTimeout(connection.pongTimer);
    connection.pongTimer = undefined;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text) as ServerFrame;
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    switch (frame.type) {
      case 'messages':
        // After close(), replies still count (acks being flushed), messages wait for the next connection.
        if (this.stopped) return;
        this.inbox.push(...frame.messages.map((message) => ({ message, ...(frame.drain && { drainedOn: connection }) })));
        return void this.dispatch();
      case 'drained':
        if (this.stopped) return;
        this.inbox.push({ drained: frame.upTo, connection });
        return void this.dispatch();
      case 'dropped':
        return this.emit('dropped', { count: frame.count, reason: frame.reason });
      case 'closing':
        // A connection of ours being replaced by our own next one is no news.
        if (connection === this.current && !this.attempting) connection.replacedByServer = true;
        return;
    }
    const request = frame.requestId === undefined ? undefined : this.pending.get(frame.requestId);
    if (request) this.answered(request, frame);
    else if (frame.type === 'error') this.emit('error', new PigeonholeError(frame.code, frame.message));
  }

  /** Hands messages to the app one at a time, in arrival order, each id once. */
  private dispatch(): Promise<void> {
    this.dispatching ??= this.handOver().finally(() => (this.dispatching = undefined));
    return this.dispatching;
  }

  private async handOver(): Promise<void> {
    while (this.listeners.message.size > 0) {
      const entry = this.inbox.shift();
      if (!entry) break;
      if ('drained' in entry) {
        this.ackDrain(entry.connection, entry.drained);
        continue;
      }
      const { message, drainedOn } = entry;
      const acked = this.seen.get(message.id);
      if (acked !== undefined) {
        // Handed already; it came again because the ack was lost on the way.
        if (acked) this.ackSoon(message);
        continue;
      }
      let failed = false;
      for (const listener of [...this.listeners.message]) {
        try {
          await listener(message);
        } catch (error) {
          failed = true;
          this.emit('error', new PigeonholeError('LISTENER', `a 'message' listener threw for ${message.id}; it stays unacked`, { cause: error }));
        }
      }
      // Not seen, not acked: the server hands it over again on the next connection or sync.
      if (failed) {
        if (drainedOn) drainedOn.drainFailed = true;
        continue;
      }
      this.seen.set(message.id, this.options.autoAck);
      if (this.seen.size > this.options.seenIdsLimit) this.seen.delete(this.seen.keys().next().value as string);
      if (!this.options.autoAck) continue;
      if (drainedOn && message.qos === 1) drainedOn.drainAcks.push(message.id);
      else this.ackSoon(message);
    }
  }

  /**
   * A drain's `drained` frame, after every message it delivered has been handed over: one `ack` by
   * bound for them all, on the connection they came on. By ids instead when that cannot cover exactly
   * what the app handled (a listener threw, the connection is no longer the current one, acks are the
   * app's), or when the server refuses the bound (a message stored late lowered it).
   */
  private ackDrain(connection: Connection, upTo: string): void {
    const ids = connection.drainAcks.splice(0);
    const failed = connection.drainFailed;
    connection.drainFailed = false;
    if (ids.length === 0 || !this.options.autoAck) return;
    const byIds = () => {
      for (const id of ids) this.acksDue.add(id);
      this.flushAcksSoon();
    };
    if (failed || connection !== this.current || connection.socket.readyState !== OPEN) return byIds();
    const frame = this.request({ action: 'ack', upTo }, 'acked')
      .then((reply) => (reply.upTo ? undefined : byIds()), byIds)
      .finally(() => this.acksInFlight.delete(frame));
    this.acksInFlight.add(frame);
  }

  private ackSoon(message: Message): void {
    // qos 0 and chatroom messages are never stored, so there is nothing to remove.
    if (message.qos === 0) return;
    this.acksDue.add(message.id);
    this.flushAcksSoon();
  }

  private flushAcksSoon(): void {
    if (this.acksDue.size >= ackMaxIds) this.flushAcks();
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), ackDelayMs);
  }

  /** Sends the acks due, 100 to a frame; resolves when answered (or not: they will come again). */
  private flushAcks(): Promise<unknown> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.current?.socket.readyState !== OPEN) return Promise.resolve();
    const ids = [...this.acksDue];
    this.acksDue.clear();
    const frames: Array<Promise<unknown>> = [];
    for (let i = 0; i < ids.length; i += ackMaxIds) {
      const frame = this.request({ action: 'ack', ids: ids.slice(i, i + ackMaxIds) }, 'acked')
        .catch(() => undefined)
        .finally(() => this.acksInFlight.delete(frame));
      this.acksInFlight.add(frame);
      frames.push(frame);
    }
    return Promise.all(frames);
  }

  // --- Requests -----------------------------------------------------------------------------------

  private request<T extends ServerFrame['type']>(frame: ClientFrame, _reply: T, isSend = false): Promise<Reply<T>> {
    return new Promise<Reply<T>>((resolve, reject) => {
      const requestId = `c${++this.nextRequestId}`;
      const request: PendingRequest = {
        frame: { ...frame, requestId },
        resolve: (reply) => resolve(reply as Reply<T>),
        reject,
        timers: [],
        waiting: false,
        isSend,
        attempts: 0,
      };
      this.pending.set(requestId, request);
      if (!isSend) {
        const { requestTimeoutMs } = this.options;
        request.timers.push(
          setTimeout(() => this.settle(request, undefined, new PigeonholeError('TIMEOUT', `no reply to ${frame.action} within ${requestTimeoutMs} ms`)), requestTimeoutMs),
        );
      }
      this.pump();
    });
  }

  /**
   * Sends what waits to go out on the current connection, oldest first. Only so many sends are out
   * at a time: after a reconnect, a whole outbox resent at once would keep the server busy past the
   * next drop on a bad network, and no reply would ever come back.
   */
  private pump(): void {
    const connection = this.current;
    if (!connection) return;
    let sendsOut = 0;
    for (const request of this.pending.values()) if (request.isSend && request.sentOn === connection) sendsOut += 1;
    for (const request of this.pending.values()) {
      if (request.sentOn || request.waiting) continue;
      if (request.isSend && sendsOut >= sendsInFlight) continue;
      if (!this.transmitRequest(connection, request)) return;
      if (request.isSend) sendsOut += 1;
    }
  }

  private transmitRequest(connection: Connection, request: PendingRequest): boolean {
    if (!this.transmit(connection, request.frame)) return false;
    request.sentOn = connection;
    request.attempts += 1;
    if (request.isSend) {
      // A reply can be lost without the connection closing (a handler that failed): ask again.
      clearTimeout(request.attemptTimer);
      request.attemptTimer = setTimeout(() => this.retry(request, 0), this.options.requestTimeoutMs);
    }
    return true;
  }

  private transmit(connection: Connection, frame: ClientFrame): boolean {
    if (connection.socket.readyState !== OPEN) return false;
    try {
      connection.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private retry(request: PendingRequest, delayMs: number): void {
    clearTimeout(request.attemptTimer);
    request.sentOn = undefined;
    request.waiting = true;
    request.attemptTimer = setTimeout(() => {
      request.waiting = false;
      this.pump();
    }, delayMs);
  }

  private answered(request: PendingRequest, reply: ServerFrame): void {
    if (reply.type !== 'error') return this.settle(request, reply);
    if (retriedCodes.has(reply.code)) {
      const { minDelayMs, maxDelayMs } = this.options;
      const backoff = Math.random() * Math.min(maxDelayMs, minDelayMs * 2 ** request.attempts);
      return this.retry(request, reply.code === 'RATE_LIMITED' ? (reply.retryAfterMs ?? backoff) : backoff);
    }
    this.settle(request, undefined, new PigeonholeError(reply.code, reply.message));
  }

  private settle(request: PendingRequest, reply: ServerFrame | undefined, error?: PigeonholeError): void {
    const requestId = request.frame.requestId as string;
    if (!this.pending.delete(requestId)) return;
    for (const timer of request.timers) clearTimeout(timer);
    clearTimeout(request.attemptTimer);
    // A definitive answer (or refusal) ends the send; close() leaves it in the outbox for later.
    if (request.isSend && error?.code !== 'CLOSED') void this.outbox.delete(request.frame.clientMsgId as string);
    if (request.isSend) this.pump();
    if (reply) request.resolve(reply);
    else request.reject(error ?? new PigeonholeError('INTERNAL', 'no reply'));
  }

  /** Sends left over from an earlier page or client go out again until answered; 'resent' tells how each ended. */
  private async loadOutbox(): Promise<void> {
    try {
      const pendingSends = new Set([...this.pending.values()].map((request) => request.frame.clientMsgId));
      for (const frame of await this.outbox.load()) {
        if (pendingSends.has(frame.clientMsgId)) continue;
        const { clientMsgId } = frame;
        this.request(frame, 'sent', true).then(
          ({ id, status }) => this.emit('resent', { clientMsgId, result: { id, status, clientMsgId } }),
          // CLOSED: this client closed first, and the send stays in the outbox for the next one.
          (error: PigeonholeError) => error.code !== 'CLOSED' && this.emit('resent', { clientMsgId, error }),
        );
      }
    } catch (error) {
      this.emit('error', new PigeonholeError('INTERNAL', 'the outbox could not be read', { cause: error }));
    }
  }

  // --- Events -------------------------------------------------------------------------------------

  private setState(state: ConnectionState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    for (const listener of [...this.listeners[event]]) {
      try {
        void Promise.resolve(listener(value)).catch(() => undefined);
      } catch {
        // An app's listener failing must not stop the client.
      }
    }
  }
}

/** Resolves when the work does, or after `ms`, whichever comes first. */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: Timer | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work, late]).then(() => clearTimeout(timer));
}

function newClientMsgId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
