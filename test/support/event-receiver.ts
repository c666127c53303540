/**
 * The app's end of the offline events' webhook (SPEC §12), for tests: a real HTTP server on loopback
 * that keeps every request, checks its signature, and answers what the test says.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureHeader, verifyEventSignature } from '../../local/event-bus';
import type { OfflineMessageStored } from '../../lib/events/offline-events';

export interface ReceivedEvent {
  body: string;
  event: OfflineMessageStored;
  signature: string | undefined;
  verified: boolean;
  /** What the receiver answered. */
  status: number;
}

export class EventReceiver {
  readonly received: ReceivedEvent[] = [];
  /** The status to answer the nth request (from 0) with; 204 unless told otherwise. */
  answer: (event: OfflineMessageStored, nth: number) => number = () => 204;
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly secret: string,
  ) {}

  static async start(secret = 'test-events-secret-0123456789abcdef'): Promise<EventReceiver> {
    let receiver: EventReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => receiver?.take(Buffer.concat(chunks).toString('utf8'), req.headers[signatureHeader] as string | undefined, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as AddressInfo;
    receiver = new EventReceiver(server, `http://127.0.0.1:${port}/pigeonhole-events`, secret);
    return receiver;
  }

  /** The events received for a message, answered 2xx or not. */
  eventsFor(messageId: string): ReceivedEvent[] {
    return this.received.filter((received) => received.event.messageId === messageId);
  }

  /** Resolves once `done` holds of what has been received; no sleeping. */
  async until(done: (received: readonly ReceivedEvent[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the receiver did not get what was awaited; it has ${this.received.length} requests`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private take(body: string, signature: string | undefined, res: import('node:http').ServerResponse): void {
    const event = JSON.parse(body) as OfflineMessageStored;
    const status = this.answer(event, this.received.length);
    this.received.push({ body, event, signature, verified: verifyEventSignature(this.secret, body, signature), status });
    res.writeHead(status).end();
    for (const wake of this.waiters.splice(0)) wake();
  }
}
