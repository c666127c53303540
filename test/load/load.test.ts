/**
 * A bounded load run inside `npm test` (the full one is `npm run test:load`): 1,000 connections held
 * for 10 s with pings and light traffic, on loopback. No errors; memory is printed, not asserted.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { startTestStack } from '../support/local-stack';
import { formatLoadReport, memorySampler, runLoad } from './load';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

it('holds 1,000 connections with pings and light traffic, without an error', { timeout: 120_000 }, async () => {
  const report = await runLoad({
    wsUrl: stack.wsUrl,
    token: (userId) => stack.issueToken(userId),
    runId: `load${Date.now().toString(36)}`,
    connections: 1000,
    holdMs: 10_000,
    pingEveryMs: 2_000,
    messagesPerSecond: 20,
    openConcurrency: 50,
    sampleMemory: memorySampler(),
  });
  console.log(`load (bounded run)\n${formatLoadReport(report)}`);
  expect(report.errors).toEqual([]);
  expect(report.connections).toBe(1000);
  expect(report.pings).toBeGreaterThan(1000);
  expect(report.delivered).toBe(report.sent);
});
