/**
 * The fan-out queue's retries and dead letters (SPEC §7, issue 11): a job that fails comes back and is
 * finished; one that fails five times is dead-lettered, and `pigeonhole fan-out redrive` sends it
 * back, so the recipients it was for get their copies.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { logger } from '../../lib/lambda/logger';
import { offlineMessagesTable } from '../../lib/tables';
import { FaultInjector } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { startTestStack } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;
const faults = new FaultInjector();

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stack = await startTestStack({ faults });
});
afterAll(() => stack?.stop());
afterEach(() => {
  faults.clear();
  vi.restoreAllMocks();
});

/** Only the worker's writes fail: the first 1,000 copies, stored by the request itself, go through. */
const workerWrites = { client: 'DynamoDBClient', command: 'BatchWriteItemCommand', function: 'fanOut', fault: 'server-error' } as const;

/**
 * Counts the worker's failed attempts at a job, each of which it reports back for SQS to retry (and
 * logs); `onFailure` sees each as it happens.
 */
function countWorkerFailures(onFailure: (count: number) => void = () => undefined): () => number {
  let count = 0;
  vi.spyOn(logger, 'error').mockImplementation((...[message]) => {
    if (typeof message === 'string' && message.startsWith('fan-out failed')) onFailure(++count);
  });
  return () => count;
}

const settled = (outcome: string) =>
  new Promise<void>((resolve) => {
    const listener = (event: { outcome: string }) => {
      if (event.outcome !== outcome) return;
      stack.fanOutJobs.events.off('settled', listener);
      resolve();
    };
    stack.fanOutJobs.events.on('settled', listener);
  });

it('retries a fan-out job that failed, and the retry stores every copy once', { timeout: 60_000 }, async () => {
  const run = `retry${Date.now().toString(36)}`;
  const recipients = Array.from({ length: 1100 }, (_, i) => `${run}-u${String(i).padStart(4, '0')}`);
  // The worker's first attempt fails; then the fault is gone, as a throttle or a blip passes.
  const stop = faults.inject(workerWrites);
  const failures = countWorkerFailures(() => stop());
  const processed = settled('processed');
  const sent = await admin(stack, 'POST', '/messages/system', { to: recipients, body: 'second time lucky' });
  expect(sent.status).toBe(202);
  await processed;
  expect(failures()).toBe(1);
  expect(stack.fanOutJobs.deadLetters).toHaveLength(0);
  const late = await Promise.all(recipients.slice(1000).map((recipient) => itemsOf(stack, offlineMessagesTable, recipient)));
  expect(late.filter((items) => items.length === 1 && items[0]?.id === sent.body.id)).toHaveLength(100);
});

it('dead-letters a fan-out job that keeps failing, and the CLI redrives it to every recipient', { timeout: 60_000 }, async () => {
  const run = `dlq${Date.now().toString(36)}`;
  const recipients = Array.from({ length: 1100 }, (_, i) => `${run}-u${String(i).padStart(4, '0')}`);
  const stop = faults.inject(workerWrites);
  const failures = countWorkerFailures();
  const deadLettered = settled('dead-lettered');
  const sent = await admin(stack, 'POST', '/messages/system', { to: recipients, body: 'maintenance at 2' });
  expect(sent.status).toBe(202);
  await deadLettered;
  stop();
  // Tried five times (the first receive and four retries), then given up on.
  expect(failures()).toBe(5);
  expect(stack.fanOutJobs.deadLetters).toHaveLength(1);
  expect(await itemsOf(stack, offlineMessagesTable, recipients[1099] as string)).toEqual([]);

  const processed = settled('processed');
  const { stdout } = await promisify(execFile)(process.execPath, ['bin/pigeonhole.mjs', 'fan-out', 'redrive'], {
    env: { ...process.env, PIGEONHOLE_ADMIN_KEY: stack.adminKey, PIGEONHOLE_ENDPOINT: stack.adminUrl },
  });
  expect(stdout).toMatch(/^Moving the dead-lettered fan-out jobs back to the fan-out queue \(task \S+\)\.$/m);
  await processed;
  expect(stack.fanOutJobs.deadLetters).toHaveLength(0);
  const late = await Promise.all(recipients.slice(1000).map((recipient) => itemsOf(stack, offlineMessagesTable, recipient)));
  expect(late.filter((items) => items.length === 1 && items[0]?.id === sent.body.id)).toHaveLength(100);
});
