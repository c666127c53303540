import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoSendRateStore } from '../../lib/dynamodb/send-rate-store';
import { RateLimitedError } from '../../lib/errors';
import { SendRateLimiter, takeTokens } from '../../lib/sending/send-rate';
import { sendRatesTable } from '../../lib/tables';
import { RequestMeter } from '../../local/request-meter';
import { createTestTables, localDocumentClient } from '../support/local-stack';

const db = localDocumentClient();
const meter = new RequestMeter();
db.middlewareStack.use(meter.plugin as never);
let store: DynamoSendRateStore;
let tableName: string;

beforeAll(async () => {
  tableName = (await createTestTables([sendRatesTable]))(sendRatesTable);
  store = new DynamoSendRateStore(db, tableName);
});

const rule = { perSecond: 20, burst: 100 };

/** A clock that moves only when told; it starts at the real now, as DynamoDB Local deletes expired items. */
function manualClock() {
  let ms = Date.now();
  return { now: () => new Date(ms), advance: (by: number) => void (ms += by) };
}

async function admitted(limiter: SendRateLimiter, userId: string, count: number): Promise<number> {
  let admittedCount = 0;
  for (let i = 0; i < count; i += 1) {
    try {
      await limiter.admit(userId, rule);
      admittedCount += 1;
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
    }
  }
  return admittedCount;
}

describe('DynamoSendRateStore', () => {
  it('holds three containers to one bucket per user, and a lease of a second\'s rate costs one write unit', async () => {
    const clock = manualClock();
    const containers = [0, 1, 2].map(() => new SendRateLimiter(store, clock));
    meter.take();
    let total = 0;
    for (let i = 0; i < 300; i += 1) total += await admitted(containers[i % 3] as SendRateLimiter, 'mallory', 1);
    expect(total).toBe(100);
    const metered = meter.take();
    // Five leases of 20 that took tokens, one unit each. A container whose guess was stale learns the bucket
    // from a refused write (a unit on DynamoDB too, metered apart), at most twice, then refuses from memory.
    expect(metered.writeUnits).toBe(metered.byCommand.UpdateItemCommand);
    expect(metered.byCommand.UpdateItemCommand).toBe(5);
    expect(metered.refusedWrites).toBeLessThanOrEqual(2 * containers.length);

    clock.advance(2000);
    for (let i = 0; i < 300; i += 1) total += await admitted(containers[i % 3] as SendRateLimiter, 'mallory', 1);
    expect(total).toBe(140);
  });

  it('keeps each user’s bucket as one small item that expires once it would be full again', async () => {
    const clock = manualClock();
    const { taken, tat } = await takeTokens(store, 'alice', 10, rule, clock.now().getTime() * 1000, undefined);
    expect(taken).toBe(10);
    const { Item } = await db.send(new GetCommand({ TableName: tableName, Key: { userId: 'alice' }, ConsistentRead: true }));
    expect(Item).toEqual({ userId: 'alice', tat, expiresAt: expect.any(Number) });
    // Full again 100 intervals (5 s) on at most; a minute past that the item goes.
    expect((Item?.expiresAt as number) * 1000 - clock.now().getTime()).toBeGreaterThan(60_000);
    expect((Item?.expiresAt as number) * 1000 - clock.now().getTime()).toBeLessThanOrEqual(66_000);
  });

  it('answers a refusal with the bucket as it is, so the next try needs no read', async () => {
    const now = Date.now() * 1000;
    const first = await store.startFull('ben', now + 500_000, now, new Date(Date.now() + 120_000));
    expect(first).toEqual({ written: true, tat: now + 500_000 });
    expect(await store.startFull('ben', now + 500_000, now, new Date(Date.now() + 120_000))).toEqual({ written: false, tat: now + 500_000 });
    expect(await store.extend('ben', 50_000, now, now + 400_000, new Date(Date.now() + 120_000))).toEqual({ written: false, tat: now + 500_000 });
    expect(await store.extend('ben', 50_000, now, now + 500_000, new Date(Date.now() + 120_000))).toEqual({ written: true, tat: now + 550_000 });
    expect(await store.extend('nobody', 50_000, now, now + 500_000, new Date(Date.now() + 120_000))).toEqual({ written: false, tat: undefined });
  });
});
