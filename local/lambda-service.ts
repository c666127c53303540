/**
 * A local stand-in for Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), so that
 * handlers invoke each other with the real LambdaClient and only an endpoint override, as on AWS:
 * an `Event` invocation is accepted with 202 and runs afterwards; a `RequestResponse` one runs and
 * answers with the function's result, or `X-Amz-Function-Error: Unhandled`.
 *
 * With `asyncFaults`, `Event` invocations arrive as Lambda's asynchronous invocation may deliver them:
 * late (Lambda queues the event, and retries throttles and errors for up to six hours by default) or
 * twice (delivery is at least once: "your function might receive the same event multiple times").
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { invoke, type LocalFunction } from './lambda-runtime';
import { listenOn, readBody, replyJson, stopServer } from './http-server';

export interface LambdaServiceEvents {
  /**
   * An asynchronous invocation finished, with the error it threw if it threw; `delivery` counts the
   * runs of one event (2 for a duplicate), `delayedMs` is how late it started.
   */
  invoked: [{ functionName: string; payload: unknown; error?: Error; delivery: number; delayedMs: number }];
}

/** How `Event` invocations go wrong; shares 0–1 of events. */
export interface AsyncInvocationFaults {
  /** Events that run late, by a delay drawn from `delayMs`. */
  late?: number;
  /** Events that run a second time, after a delay drawn from `delayMs` (concurrently with the first, or after it). */
  twice?: number;
  /** Uniform between the two; 100–1000 ms when unset. */
  delayMs?: { minMs: number; maxMs: number };
}

/** Reads `late=0.1,twice=5%,delay=100-1000ms`; throws on anything else. */
export function parseAsyncInvocationFaults(spec: string): AsyncInvocationFaults {
  const faults: AsyncInvocationFaults = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const share = /^(late|twice)=(\d+(?:\.\d+)?)(%?)$/.exec(part);
    const delay = /^delay=(\d+)(?:ms)?-(\d+)(?:ms)?$/.exec(part);
    if (share?.[1] && share[2] !== undefined) {
      const value = Number(share[2]) / (share[3] ? 100 : 1);
      if (value <= 1) {
        faults[share[1] as 'late' | 'twice'] = value;
        continue;
      }
    } else if (delay && Number(delay[2]) >= Number(delay[1])) {
      faults.delayMs = { minMs: Number(delay[1]), maxMs: Number(delay[2]) };
      continue;
    }
    throw new Error(`'${part}' is not an asynchronous invocation fault: use late=0.1, twice=5% or delay=100-1000ms`);
  }
  return faults;
}

/** When each run of one event starts, in ms from its acceptance: [0] without faults. */
export function deliveryDelays(faults: AsyncInvocationFaults | undefined, random: () => number = Math.random): number[] {
  if (!faults) return [0];
  const { minMs, maxMs } = faults.delayMs ?? { minMs: 100, maxMs: 1000 };
  const draw = () => Math.round(minMs + random() * (maxMs - minMs));
  const delays = [random() < (faults.late ?? 0) ? draw() : 0];
  if (random() < (faults.twice ?? 0)) delays.push(draw());
  return delays;
}

export class LocalLambdaService {
  readonly events = new EventEmitter<LambdaServiceEvents>();
  private readonly server: Server;
  private readonly inFlight = new Set<Promise<void>>();
  private functions = new Map<string, LocalFunction>();
  private address: AddressInfo | undefined;
  /** Set (and changed) by tests and `npm start --async-invocations`; none by default. */
  asyncFaults: AsyncInvocationFaults | undefined;

  constructor(
    private readonly host: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  configure(functions: readonly LocalFunction[]): void {
    this.functions = new Map(functions.map((fn) => [fn.name, fn]));
  }

  async listen(): Promise<void> {
    this.address = await listenOn(this.server, this.host);
  }

  get url(): string {
    if (!this.address) throw new Error('the Lambda service is not listening');
    return `http://${this.host}:${this.address.port}`;
  }

  /** Resolves once no asynchronous invocation is under way (tests that move the clock wait for drains so). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Waits for asynchronous invocations under way, then stops listening. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await stopServer(this.server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
    const body = await readBody(req);
    if (req.method !== 'POST' || !match?.[1]) return error(res, 404, 'ResourceNotFoundException', 'unknown path');
    const name = decodeURIComponent(match[1]);
    const fn = this.functions.get(name);
    if (!fn) return error(res, 404, 'ResourceNotFoundException', `Function not found: ${name}`);

    const text = body?.toString('utf8') ?? '';
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : {};
    } catch {
      return error(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }

    if (req.headers['x-amz-invocation-type'] === 'Event') {
      res.writeHead(202).end();
      deliveryDelays(this.asyncFaults).forEach((delayedMs, index) => {
        const delivery = index + 1;
        if (delayedMs > 0 || delivery > 1) this.log(`${name}: event delivered ${delivery > 1 ? 'again' : 'late'}, after ${delayedMs} ms`);
        const run = new Promise((resolve) => setTimeout(resolve, delayedMs))
          .then(() => invoke(fn, payload))
          .then(
            () => void this.events.emit('invoked', { functionName: name, payload, delivery, delayedMs }),
            (failure: Error) => {
              this.log(`${name} failed: ${failure.message}`);
              this.events.emit('invoked', { functionName: name, payload, error: failure, delivery, delayedMs });
            },
          );
        this.inFlight.add(run);
        void run.finally(() => this.inFlight.delete(run));
      });
      return;
    }
    try {
      const result = await invoke(fn, payload);
      replyJson(res, 200, result ?? null);
    } catch (failure) {
      const { name: errorType, message } = failure as Error;
      replyJson(res, 200, { errorType, errorMessage: message }, { 'X-Amz-Function-Error': 'Unhandled' });
    }
  }
}

function error(res: ServerResponse, status: number, type: string, message: string): void {
  replyJson(res, status, { message }, { 'x-amzn-ErrorType': type });
}
