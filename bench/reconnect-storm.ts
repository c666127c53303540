/**
 * A reconnect storm, simulated: every client of a region cut off at once comes back as the client SDK
 * does (client/index.ts): its first attempt after a random wait of up to `minDelayMs`, and after each
 * refused attempt a wait drawn uniformly from 0 to min(maxDelayMs, minDelayMs × 2^failures) (full
 * jitter). API Gateway admits new connections through a token bucket (`rate` a second, holding at most
 * `burst`); an upgrade it refuses costs the client one failure. Deterministic: the draws come from a
 * seeded generator.
 */
import { seededRandom } from '../local/seeded-random';

export interface StormOptions {
  clients: number;
  /** New connections admitted a second, and how many the bucket holds. */
  rate: number;
  burst: number;
  minDelayMs: number;
  maxDelayMs: number;
  seed?: number;
}

export interface StormResult {
  /** When the given share of clients was connected, in ms after the cut. */
  connectedAtMs: { half: number; p99: number; all: number };
  attempts: number;
  /** Attempts a second at the worst second: what API Gateway is asked for. */
  peakAttemptsPerSecond: number;
  /** Connections admitted a second at the busiest second. */
  peakAdmittedPerSecond: number;
  mostAttemptsOfOneClient: number;
}

/** A binary min-heap of (time, client), by time. */
class Attempts {
  private readonly times: number[] = [];
  private readonly clients: number[] = [];

  get size(): number {
    return this.times.length;
  }

  push(time: number, client: number): void {
    this.times.push(time);
    this.clients.push(client);
    let i = this.times.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((this.times[parent] as number) <= time) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { time: number; client: number } {
    const top = { time: this.times[0] as number, client: this.clients[0] as number };
    const lastTime = this.times.pop() as number;
    const lastClient = this.clients.pop() as number;
    if (this.times.length > 0) {
      this.times[0] = lastTime;
      this.clients[0] = lastClient;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < this.times.length && (this.times[left] as number) < (this.times[smallest] as number)) smallest = left;
        if (right < this.times.length && (this.times[right] as number) < (this.times[smallest] as number)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b] as number, this.times[a] as number];
    [this.clients[a], this.clients[b]] = [this.clients[b] as number, this.clients[a] as number];
  }
}

export function simulateStorm(options: StormOptions): StormResult {
  const random = seededRandom(options.seed ?? 18);
  const failures = new Uint16Array(options.clients);
  const attempts = new Attempts();
  // The SDK's first try after a close: scheduleAttempt(0).
  for (let client = 0; client < options.clients; client += 1) attempts.push(random() * options.minDelayMs, client);

  let tokens = options.burst;
  let refilledAt = 0;
  let connected = 0;
  let total = 0;
  const attemptsBySecond = new Map<number, number>();
  const admittedBySecond = new Map<number, number>();
  const connectedAtMs = { half: Number.NaN, p99: Number.NaN, all: Number.NaN };
  while (attempts.size > 0) {
    const { time, client } = attempts.pop();
    total += 1;
    const second = Math.floor(time / 1000);
    attemptsBySecond.set(second, (attemptsBySecond.get(second) ?? 0) + 1);
    tokens = Math.min(options.burst, tokens + ((time - refilledAt) * options.rate) / 1000);
    refilledAt = time;
    if (tokens >= 1) {
      tokens -= 1;
      connected += 1;
      admittedBySecond.set(second, (admittedBySecond.get(second) ?? 0) + 1);
      if (connected === Math.ceil(options.clients / 2)) connectedAtMs.half = time;
      if (connected === Math.ceil(options.clients * 0.99)) connectedAtMs.p99 = time;
      if (connected === options.clients) connectedAtMs.all = time;
      continue;
    }
    // Refused (429 at the upgrade): the SDK counts a failure and waits a full-jitter backoff.
    failures[client] = (failures[client] ?? 0) + 1;
    const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** (failures[client] ?? 0));
    attempts.push(time + random() * ceiling, client);
  }
  return {
    connectedAtMs,
    attempts: total,
    peakAttemptsPerSecond: Math.max(...attemptsBySecond.values()),
    peakAdmittedPerSecond: Math.max(...admittedBySecond.values()),
    mostAttemptsOfOneClient: failures.reduce((most, f) => Math.max(most, f), 0) + 1,
  };
}
