/**
 * How long functions cache the app's settings (SPEC §6): as long as the stack says
 * (`settingsCacheSeconds`, which `PIGEONHOLE_SETTINGS_CACHE_SECONDS` sets for `npm start` and
 * `SETTINGS_CACHE_SECONDS` for each function), here 30 s, on a clock the test stops and moves. The
 * cache is one per container (one per process locally), so every function's reads count.
 * test/e2e/settings-cache-limit.test.ts shows that no value lengthens it past 60 s.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { TestClock } from '../support/clock';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;
const clock = new TestClock();

beforeAll(async () => {
  stack = await startTestStack({ clock, settingsCacheSeconds: 30 });
});
afterAll(() => stack?.stop());

/** Moves the stopped clock once the drains under way are done. */
async function advanceClock(ms: number): Promise<void> {
  await stack.lambda.idle();
  clock.advance(ms);
}

it('keeps using the settings it read for settingsCacheSeconds, and reads them again after', async () => {
  clock.freeze();
  const client = await TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(`cache-${randomUUID().slice(0, 8)}`)}`);
  try {
    // Whatever was read before is older than any cache may be kept: the next read starts a fresh one.
    await advanceClock(61_000);
    const duration = () => client.request({ action: 'getOfflineMessageDuration' });
    expect(await duration()).toMatchObject({ type: 'error', code: 'FORBIDDEN' });

    expect((await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: true })).status).toBe(200);
    await advanceClock(29_000);
    expect(await duration()).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await advanceClock(2_000);
    expect(await duration()).toMatchObject({ type: 'offlineMessageDuration', days: 7, source: 'app' });
  } finally {
    await client.close();
    await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: false });
    clock.reset();
  }
});
