/**
 * A WebSocket client for tests: it keeps every frame it receives, and lets a test await the next frame
 * that matches, so that no test sleeps while waiting for the server.
 */
import WebSocket from 'ws';
import type { Message } from '../../lib/protocol';

export interface Closed {
  code: number;
  reason: string;
}

export class RefusedError extends Error {
  constructor(readonly status: number) {
    super(`the upgrade was refused with HTTP ${status}`);
  }
}

type Frame = Record<string, unknown>;

export interface ClientOptions {
  /** Sees every frame first; frames it calls 'handled' are neither kept nor awaited (for long runs). */
  onFrame?: (frame: Frame, client: TestClient) => 'handled' | undefined;
}

export class TestClient {
  /** Every frame received so far, in order. */
  readonly received: Frame[] = [];
  /** The size in bytes of each frame received, in the same order. */
  readonly receivedBytes: number[] = [];
  readonly closed: Promise<Closed>;
  private unread: Frame[] = [];
  private waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void; reject: (error: Error) => void }> = [];
  private nextRequestId = 0;

  private constructor(
    private readonly socket: WebSocket,
    private readonly options: ClientOptions,
  ) {
    socket.on('message', (data) => {
      const text = data.toString();
      const frame = JSON.parse(text) as Frame;
      if (this.options.onFrame?.(frame, this) === 'handled') return;
      this.receivedBytes.push(Buffer.byteLength(text));
      this.deliver(frame);
    });
    // A reset connection emits 'error' and then 'close'; 'close' is what tests wait for.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        // Nothing more will arrive: whoever still waits hears so now, not at their timeout.
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`the connection closed (${code})`));
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /** Opens a connection; rejects with RefusedError when the upgrade is refused. */
  static connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      // Listening from the start: the server may push before 'open' has been handled.
      const client = new TestClient(socket, options);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => {
        reject(new RefusedError(response.statusCode ?? 0));
        response.resume();
        socket.terminate();
      });
      socket.once('error', reject);
    });
  }

  /** The HTTP status of a refused upgrade; fails if the connection opens. */
  static async refusal(url: string): Promise<number> {
    try {
      const client = await TestClient.connect(url);
      await client.close();
    } catch (error) {
      if (error instanceof RefusedError) return error.status;
      throw error;
    }
    throw new Error(`expected ${url} to be refused, but it connected`);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(frame: object | string): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendRaw(data: Buffer | string, options: { binary?: boolean } = {}): void {
    this.socket.send(data, { binary: options.binary ?? false });
  }

  /** Sends a frame with a fresh requestId and resolves with the reply that echoes it. */
  async request(frame: Frame, timeoutMs = 5000): Promise<Frame> {
    const requestId = `r${++this.nextRequestId}`;
    this.send({ ...frame, requestId });
    return this.next((reply) => reply.requestId === requestId, timeoutMs);
  }

  /** The first unread frame that matches (any frame by default), waiting for it if need be. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const index = this.unread.findIndex(match);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0] as Frame);
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.reject(new Error('the connection is closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; unread: ${JSON.stringify(this.unread).slice(0, 500)}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Collects this many messages from the `messages` frames that arrive, in arrival order. */
  async messages(count: number, timeoutMs = 5000): Promise<Message[]> {
    const collected: Message[] = [];
    while (collected.length < count) {
      const frame = await this.next((f) => f.type === 'messages', timeoutMs);
      collected.push(...(frame.messages as Message[]));
    }
    if (collected.length > count) throw new Error(`expected ${count} messages, got ${collected.length}`);
    return collected;
  }

  /** The `messages` frames received so far. */
  get messageFrames(): Frame[] {
    return this.received.filter((frame) => frame.type === 'messages');
  }

  async close(code = 1000): Promise<Closed> {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.close(code);
    return this.closed;
  }

  /** Drops the TCP connection without a close frame, as a phone losing its network does. */
  terminate(): void {
    this.socket.terminate();
  }

  private deliver(frame: Frame): void {
    this.received.push(frame);
    const waiter = this.waiters.find((w) => w.match(frame));
    if (waiter) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(frame);
    } else {
      this.unread.push(frame);
    }
  }
}
