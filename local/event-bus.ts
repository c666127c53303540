/**
 * A local stand-in for the stack's EventBridge bus, with one rule: each event put on it is POSTed to
 * `PIGEONHOLE_EVENTS_URL` (SPEC §12), the body the event's detail (its JSON exactly), signed with
 * HMAC-SHA256 of that body in `X-Pigeonhole-Signature: sha256=<hex>`. Handlers put events through the
 * real EventBridge client (`PutEvents`, JSON 1.1), so the code that runs on AWS runs here.
 *
 * As EventBridge does, it answers PutEvents once it holds the events and delivers them afterwards: a
 * receiver that does not answer 2xx is tried again with backoff, up to `maxAttempts` times, and then
 * the event is given up on and logged (on AWS it would go to the rule's dead-letter queue). So a
 * receiver that fails never reaches the send that emitted the event. With no URL, events are taken
 * and dropped, as on a bus with no rules.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn, readBody, replyJson, stopServer } from './http-server';

export const signatureHeader = 'x-pigeonhole-signature';

/** `sha256=<hex>`: HMAC-SHA256 of the exact body, keyed with the events secret. */
export function signEvent(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does with the header: recompute the HMAC over the raw body and compare in constant time. */
export function verifyEventSignature(secret: string, body: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signEvent(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface EventTarget {
  url: string;
  secret: string;
}

export interface EventBusEvents {
  /** An event was POSTed and the receiver answered 2xx. */
  delivered: [{ eventId: string; detail: string; attempts: number }];
  /** The receiver failed every attempt: the event is dropped. */
  undeliverable: [{ eventId: string; detail: string; attempts: number; lastStatus: number | undefined }];
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
}

export class LocalEventBus {
  readonly events = new EventEmitter<EventBusEvents>();
  /** Where events go; undefined: nowhere (a bus without rules). */
  target: EventTarget | undefined;
  /** Faults EventBridge can have that this bus never has by itself: refuses an entry with this ErrorCode. */
  refuseEntry: ((detail: string) => string | undefined) | undefined;
  /** The number of entries in each PutEvents request taken, in order. */
  readonly puts: number[] = [];
  private readonly server: Server;
  private readonly deliveries = new Set<Promise<void>>();
  private readonly held = new Set<() => void>();
  private holding = false;
  private address: AddressInfo | undefined;
  private stopping = false;

  constructor(
    private readonly host: string,
    readonly busName: string,
    private readonly options: { maxAttempts: number; firstRetryMs: number; log?: (line: string) => void } = { maxAttempts: 5, firstRetryMs: 100 },
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<void> {
    this.address = await listenOn(this.server, this.host);
  }

  get endpoint(): string {
    if (!this.address) throw new Error('the event bus is not listening');
    return `http://${this.host}:${this.address.port}`;
  }

  /** Holds every PutEvents request unanswered until the returned function is called: a bus that does not answer. */
  hold(): () => void {
    this.holding = true;
    return () => {
      this.holding = false;
      for (const release of this.held) release();
      this.held.clear();
    };
  }

  /** Stops after the deliveries under way have had their tries. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const release of this.held) release();
    await stopServer(this.server);
    await Promise.allSettled([...this.deliveries]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const reply = (status: number, body: unknown): void => {
      replyJson(res, status, body, { 'content-type': 'application/x-amz-json-1.1' });
    };
    if (this.holding) await new Promise<void>((resolve) => this.held.add(resolve));
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
      return reply(400, { __type: 'UnknownOperationException', message: `${String(req.headers['x-amz-target'])} is not served locally` });
    }
    const input = JSON.parse(body?.toString('utf8') || '{}') as { Entries?: PutEventsEntry[] };
    const entries = input.Entries ?? [];
    if (entries.length < 1 || entries.length > 10) {
      return reply(400, { __type: 'ValidationException', message: 'Entries must hold 1 to 10 events' });
    }
    this.puts.push(entries.length);
    const results = entries.map((entry) => this.take(entry));
    reply(200, { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results });
  }

  private take(entry: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    if (entry.EventBusName !== this.busName) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${String(entry.EventBusName)} does not exist.` };
    if (!entry.Source || !entry.DetailType || !isJsonObject(entry.Detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Source, DetailType and Detail (a JSON object) are required.' };
    }
    const refusal = this.refuseEntry?.(entry.Detail);
    if (refusal !== undefined) return { ErrorCode: refusal, ErrorMessage: 'refused by the local bus, as asked' };
    const eventId = randomUUID();
    const { target } = this;
    const detail = entry.Detail;
    // After the answer: PutEvents returns once the bus holds the events, not once they are delivered.
    if (target) setImmediate(() => this.track(this.deliver(target, eventId, detail)));
    return { EventId: eventId };
  }

  private track(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async deliver(target: EventTarget, eventId: string, detail: string): Promise<void> {
    let lastStatus: number | undefined;
    let attempts = 0;
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt += 1) {
      attempts = attempt;
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [signatureHeader]: signEvent(target.secret, detail), 'x-pigeonhole-event-id': eventId },
          body: detail,
          signal: AbortSignal.timeout(5000),
        });
        await response.arrayBuffer();
        lastStatus = response.status;
        if (response.ok) return void this.events.emit('delivered', { eventId, detail, attempts: attempt });
      } catch {
        lastStatus = undefined;
      }
      if (this.stopping || attempt === this.options.maxAttempts) break;
      await new Promise((resolve) => setTimeout(resolve, this.options.firstRetryMs * 2 ** (attempt - 1)));
    }
    this.options.log?.(`offline event ${eventId} not delivered to ${target.url} (last answer: ${lastStatus ?? 'none'}): dropped`);
    this.events.emit('undeliverable', { eventId, detail, attempts, lastStatus });
  }
}

function isJsonObject(text: string | undefined): text is string {
  if (text === undefined) return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
