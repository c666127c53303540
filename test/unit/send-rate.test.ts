import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../lib/errors';
import { SendRateLimiter, takeTokens, tokensAt, waitFor, type BucketState, type RateRule, type SendRateStore } from '../../lib/sending/send-rate';

/** A clock that moves only when told. */
class ManualClock {
  constructor(private ms = Date.parse('2030-01-15T10:00:00Z')) {}
  now = () => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** The two conditional updates as DynamoDB makes them, on a map; counts every write, refused ones too (they cost a unit). */
class MemoryRateStore implements SendRateStore {
  readonly tats = new Map<string, number>();
  writes = 0;
  refused = 0;

  async startFull(userId: string, tat: number, now: number): Promise<BucketState> {
    this.writes += 1;
    const current = this.tats.get(userId);
    if (current !== undefined && current > now) return this.refuse(current);
    this.tats.set(userId, tat);
    return { written: true, tat };
  }

  async extend(userId: string, by: number, now: number, limit: number): Promise<BucketState> {
    this.writes += 1;
    const current = this.tats.get(userId);
    if (current === undefined || current <= now || current > limit) return this.refuse(current);
    this.tats.set(userId, current + by);
    return { written: true, tat: current + by };
  }

  private refuse(tat: number | undefined): BucketState {
    this.refused += 1;
    return { written: false, tat };
  }
}

const rule: RateRule = { perSecond: 20, burst: 100 };

/** How many of `count` sends one after another are admitted, and the first refusal. */
async function sendMany(limiter: SendRateLimiter, userId: string, count: number, sendRule = rule) {
  let admitted = 0;
  let refusal: RateLimitedError | undefined;
  for (let i = 0; i < count; i += 1) {
    try {
      await limiter.admit(userId, sendRule);
      admitted += 1;
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      refusal ??= error;
    }
  }
  return { admitted, refusal };
}

describe('the bucket arithmetic', () => {
  const now = 1_000_000_000;
  it('is full without an item, and when its tat is not after now', () => {
    expect(tokensAt(undefined, now, rule)).toBe(100);
    expect(tokensAt(now - 1, now, rule)).toBe(100);
  });

  it('counts the tokens left and the wait for more, one interval (50 ms at 20/s) a token', () => {
    // 100 tokens taken just now: tat is 100 intervals ahead.
    expect(tokensAt(now + 100 * 50_000, now, rule)).toBe(0);
    expect(tokensAt(now + 90 * 50_000, now, rule)).toBe(10);
    expect(waitFor(now + 100 * 50_000, now, 1, rule)).toBe(50_000);
    expect(waitFor(now + 100 * 50_000, now, 10, rule)).toBe(500_000);
    expect(waitFor(now + 90 * 50_000, now, 10, rule)).toBe(0);
  });
});

describe('takeTokens', () => {
  it('starts a full bucket in one write, then extends it in one write when it guesses right', async () => {
    const store = new MemoryRateStore();
    const now = 5_000_000;
    const first = await takeTokens(store, 'u', 10, rule, now, undefined);
    expect(first).toEqual({ taken: 10, tat: now + 10 * 50_000 });
    const second = await takeTokens(store, 'u', 10, rule, now, first.tat);
    expect(second).toEqual({ taken: 10, tat: now + 20 * 50_000 });
    expect(store.writes).toBe(2);
  });

  it('recovers from a wrong guess with the bucket the refusal hands back', async () => {
    const store = new MemoryRateStore();
    const now = 5_000_000;
    await takeTokens(store, 'u', 10, rule, now, undefined);
    // This container believes the bucket is full; another one has just taken 10.
    expect(await takeTokens(store, 'u', 10, rule, now, undefined)).toEqual({ taken: 10, tat: now + 20 * 50_000 });
    expect(store.refused).toBe(1);
  });

  it('takes what is left when less than a lease is, and nothing from an empty bucket', async () => {
    const store = new MemoryRateStore();
    const now = 5_000_000;
    const burst15 = { perSecond: 20, burst: 15 };
    const a = await takeTokens(store, 'u', 10, burst15, now, undefined);
    const b = await takeTokens(store, 'u', 10, burst15, now, a.tat);
    const c = await takeTokens(store, 'u', 10, burst15, now, b.tat);
    expect([a.taken, b.taken, c.taken]).toEqual([10, 5, 0]);
    // The empty bucket is known from the last write: no further write to learn it.
    expect(store.writes).toBe(2);
  });
});

describe('SendRateLimiter', () => {
  it('admits the burst at once, then refuses with the wait until ten tokens are free, storing nothing more', async () => {
    const clock = new ManualClock();
    const store = new MemoryRateStore();
    const limiter = new SendRateLimiter(store, clock);
    const { admitted, refusal } = await sendMany(limiter, 'mallory', 5000);
    expect(admitted).toBe(100);
    expect(refusal?.code).toBe('RATE_LIMITED');
    expect(refusal?.retryAfterMs).toBe(500);
    // Five leases of a second's rate (20): the fifth showed the bucket empty, so the 4,900 refusals came from memory.
    expect(store.writes).toBe(5);
  });

  it('admits a flood again at the rate as time passes, ten at a time: a write for every ten sends', async () => {
    const clock = new ManualClock();
    const store = new MemoryRateStore();
    const limiter = new SendRateLimiter(store, clock);
    await sendMany(limiter, 'u', 100);
    store.writes = 0;
    let admitted = 0;
    // Ten seconds of a send every 5 ms, ten times the rate of 20 a second.
    for (let step = 0; step < 2000; step += 1) {
      clock.advance(5);
      admitted += (await sendMany(limiter, 'u', 1)).admitted;
    }
    // The refill of ten seconds is 200 tokens, leased ten at a time each half second, not twenty at once
    // each second (smaller bursts beside others' sends): nineteen leases spent, and the twentieth, taken
    // at the last step, has spent one.
    expect(admitted).toBe(19 * 10 + 1);
    expect(store.writes).toBe(20);
    expect(store.refused).toBe(0);
  });

  it('costs a write per twenty sends at a steady rate within the limit', async () => {
    const clock = new ManualClock();
    const store = new MemoryRateStore();
    const limiter = new SendRateLimiter(store, clock);
    for (let i = 0; i < 1000; i += 1) {
      clock.advance(100);
      expect((await sendMany(limiter, 'u', 1)).admitted).toBe(1);
    }
    expect(store.writes).toBe(50);
  });

  it('holds the user to one bucket across containers: two containers together admit the burst, not twice it', async () => {
    const clock = new ManualClock();
    const store = new MemoryRateStore();
    const [a, b] = [new SendRateLimiter(store, clock), new SendRateLimiter(store, clock)];
    let admitted = 0;
    for (let i = 0; i < 150; i += 1) admitted += (await sendMany(i % 2 === 0 ? a : b, 'u', 1)).admitted;
    expect(admitted).toBe(100);
    clock.advance(1000);
    // A second's refill is 20 tokens, leased by whichever container asks first.
    for (let i = 0; i < 60; i += 1) admitted += (await sendMany(i % 2 === 0 ? a : b, 'u', 1)).admitted;
    expect(admitted).toBe(120);
  });

  it('keeps users apart', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter(new MemoryRateStore(), clock);
    expect((await sendMany(limiter, 'mallory', 300)).admitted).toBe(100);
    expect((await sendMany(limiter, 'alice', 5)).admitted).toBe(5);
  });

  it('leases one at a time per user: concurrent sends wait for the lease under way', async () => {
    const clock = new ManualClock();
    const store = new MemoryRateStore();
    const limiter = new SendRateLimiter(store, clock);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => limiter.admit('u', rule)));
    expect(results.every((result) => result.status === 'fulfilled')).toBe(true);
    expect(store.writes).toBe(3);
  });

  it('leases no more than the burst, and after a refusal waits for a whole lease', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter(new MemoryRateStore(), clock);
    const tiny = { perSecond: 1, burst: 3 };
    const { admitted, refusal } = await sendMany(limiter, 'u', 10, tiny);
    expect(admitted).toBe(3);
    expect(refusal?.retryAfterMs).toBe(3000);
    clock.advance(1000);
    expect((await sendMany(limiter, 'u', 10, tiny)).admitted).toBe(0);
    clock.advance(2000);
    expect((await sendMany(limiter, 'u', 10, tiny)).admitted).toBe(3);
  });

  it('applies a changed rule at the next lease', async () => {
    const clock = new ManualClock();
    const limiter = new SendRateLimiter(new MemoryRateStore(), clock);
    expect((await sendMany(limiter, 'u', 500, { perSecond: 20, burst: 10 })).admitted).toBe(10);
    clock.advance(10_000);
    expect((await sendMany(limiter, 'u', 500, { perSecond: 20, burst: 300 })).admitted).toBe(300);
  });
});
