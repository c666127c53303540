/**
 * The per-user send rate (SPEC §4, §6): `sendRatePerSecond` sends a second on average and `sendBurst`
 * at once, across all of a user's devices, whichever Lambda container each of their frames reaches.
 * Past it a send is refused with RATE_LIMITED and `retryAfterMs`, before anything is stored or pushed.
 *
 * One bucket per user is kept in DynamoDB as a single number, its theoretical arrival time (`tat`, the
 * generic cell rate algorithm): the bucket is full when `tat` is not after now, each token taken moves
 * it one interval (1/rate) later, and it may run at most `burst` intervals ahead of now. Taking tokens
 * is one conditional update that needs no read: `tat = now + n·T` when the bucket is full, else
 * `tat = tat + n·T` if that stays within the burst; a refusal hands back the bucket as it is.
 *
 * Writing once per message would cost a write unit per message. Instead each container leases tokens
 * in chunks (`leaseFor`: a second of the rate, at least 10, at most the burst; at the default 20 a
 * second, 0.05 write unit per message it spends them on) and spends them from memory. Leased tokens
 * are spent in the global bucket, so the sum over all containers never exceeds the rate; the price is
 * that tokens a container holds for a user who does not come back to it are lost to that user (see
 * README, Abuse limits). After a refusal a container refuses that user from memory until ten tokens
 * (`refillFor`) would be free again, so a flood costs at most one write per container per ten
 * intervals, however many frames it sends; a container that knows the bucket is empty (its `tat` only
 * moves later, never earlier, but by time) does not write to find out.
 */
import type { Clock } from '../clock';
import { RateLimitedError } from '../errors';
import type { AppSettings } from '../retention/settings';

export interface RateRule {
  perSecond: number;
  burst: number;
}

export function rateRuleOf(app: Pick<AppSettings, 'sendRatePerSecond' | 'sendBurst'>): RateRule {
  return { perSecond: app.sendRatePerSecond, burst: app.sendBurst };
}

/** The bucket's position: `tat` in microseconds since the epoch, or undefined for a full bucket with no item. */
export type BucketState = { written: true; tat: number } | { written: false; tat: number | undefined };

/** The per-user bucket items: two conditional updates, each answering with the bucket it found when refused. */
export interface SendRateStore {
  /** Sets `tat` to `tat` if the bucket is full (no item, or its `tat` not after `now`). */
  startFull(userId: string, tat: number, now: number, expiresAt: Date): Promise<BucketState>;
  /** Moves `tat` on by `by` if the bucket is not full and `tat` is at most `limit`. */
  extend(userId: string, by: number, now: number, limit: number, expiresAt: Date): Promise<BucketState>;
}

/** Microseconds between tokens: integers, so that the conditions DynamoDB compares are exact. */
export function intervalMicros(rule: RateRule): number {
  return Math.round(1_000_000 / rule.perSecond);
}

/** Tokens the bucket holds at `now`, given its `tat` (undefined: full). */
export function tokensAt(tat: number | undefined, now: number, rule: RateRule): number {
  if (tat === undefined || tat <= now) return rule.burst;
  return Math.max(0, Math.floor((now + rule.burst * intervalMicros(rule) - tat) / intervalMicros(rule)));
}

/** Microseconds from `now` until the bucket holds `count` tokens (0 if it already does). */
export function waitFor(tat: number | undefined, now: number, count: number, rule: RateRule): number {
  if (tat === undefined) return 0;
  const interval = intervalMicros(rule);
  return Math.max(0, tat + Math.min(count, rule.burst) * interval - rule.burst * interval - now);
}

/** Bounded: under contention each refusal returns the bucket as another container just left it. */
const maxAttempts = 6;

/**
 * Takes up to `wanted` tokens from the user's bucket, as many as it holds if fewer; resolves to how
 * many were taken (0: none free) and the bucket's `tat` as last seen, the guess for the next call.
 */
export async function takeTokens(
  store: SendRateStore,
  userId: string,
  wanted: number,
  rule: RateRule,
  now: number,
  guess: number | undefined,
): Promise<{ taken: number; tat: number | undefined }> {
  const interval = intervalMicros(rule);
  const span = rule.burst * interval;
  // Once `tat` has fallen behind now the bucket is full, and the item says no more than no item does.
  const expiresAt = new Date(Math.ceil((now + span) / 1000) + 60_000);
  let tat = guess;
  for (let attempt = 0; attempt < maxAttempts; attempt += 1) {
    if (tat === undefined || tat <= now) {
      const count = Math.min(wanted, rule.burst);
      const state = await store.startFull(userId, now + count * interval, now, expiresAt);
      if (state.written) return { taken: count, tat: state.tat };
      tat = state.tat;
      continue;
    }
    const count = Math.min(wanted, tokensAt(tat, now, rule));
    if (count < 1) return { taken: 0, tat };
    const state = await store.extend(userId, count * interval, now, now + span - count * interval, expiresAt);
    if (state.written) return { taken: count, tat: state.tat };
    tat = state.tat;
  }
  return { taken: 0, tat };
}

interface LocalBucket {
  /** Tokens leased to this container and not yet spent. */
  tokens: number;
  /** The global bucket's `tat` as this container last saw it. */
  tat: number | undefined;
  /** Refused from memory until then (microseconds). */
  refusedUntil: number;
  leasing: Promise<void> | undefined;
}

/** The fewest tokens a lease waits for: below this, the writes per message rise past 0.1. */
const smallestLease = 10;

/** Tokens taken per write: a second of the rate (what a container strands, at most, for a user who does not come back to it), never fewer than 10, never more than the burst. */
export function leaseFor(rule: RateRule): number {
  return Math.min(rule.burst, Math.max(smallestLease, Math.ceil(rule.perSecond)));
}

/**
 * Tokens a refused user waits for before the next lease: the smallest lease, not a whole one. A flood
 * is then admitted in tens, twice a second at the default rate, rather than twenty at once each
 * second: the same rate and writes, in smaller bursts, which is what the others' sends beside it feel
 * (the flood benchmark's p99 roughly doubled with bursts of twenty).
 */
function refillFor(rule: RateRule): number {
  return Math.min(leaseFor(rule), smallestLease);
}

/** Users whose leases a warm container remembers; the least recently seen go first. */
const maxRememberedUsers = 10_000;

/** One per container: every send of the container goes through `admit`. */
export class SendRateLimiter {
  private readonly users = new Map<string, LocalBucket>();

  constructor(
    private readonly store: SendRateStore,
    private readonly clock: Clock,
  ) {}

  /** Spends one of the user's tokens, leasing more if this container has none; throws RateLimitedError when there are none to lease. */
  async admit(userId: string, rule: RateRule): Promise<void> {
    const local = this.bucketOf(userId);
    for (;;) {
      if (local.tokens > 0) {
        local.tokens -= 1;
        return;
      }
      const now = this.clock.now().getTime() * 1000;
      if (local.refusedUntil > now) {
        throw new RateLimitedError(
          `more than ${rule.burst} sends at once or ${rule.perSecond} a second on average, across your devices`,
          Math.ceil((local.refusedUntil - now) / 1000),
        );
      }
      // One lease at a time per user: sends that arrive meanwhile wait for its tokens.
      local.leasing ??= this.lease(userId, local, rule, now).finally(() => {
        local.leasing = undefined;
      });
      await local.leasing;
    }
  }

  private async lease(userId: string, local: LocalBucket, rule: RateRule, now: number): Promise<void> {
    const wanted = leaseFor(rule);
    const { taken, tat } = await takeTokens(this.store, userId, wanted, rule, now, local.tat);
    local.tat = tat;
    local.tokens += taken;
    // Less than a whole lease left: once these are spent, wait for the smallest lease rather than lease
    // each token as it comes back (a write per send, in a flood).
    if (tokensAt(tat, now, rule) < wanted) local.refusedUntil = now + Math.max(1000, waitFor(tat, now, refillFor(rule), rule));
  }

  private bucketOf(userId: string): LocalBucket {
    const known = this.users.get(userId);
    const local = known ?? { tokens: 0, tat: undefined, refusedUntil: 0, leasing: undefined };
    this.users.delete(userId);
    this.users.set(userId, local);
    if (!known && this.users.size > maxRememberedUsers) this.users.delete(this.users.keys().next().value as string);
    return local;
  }
}
