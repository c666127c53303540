/**
 * A bounded chaos run inside `npm test` (the full one is `npm run test:chaos`): 20 users, 1,000 qos-1
 * messages (a fifth to groups), sockets dropping without a close frame, acks forgotten, and 5 % of
 * DynamoDB requests and of `@connections` posts failing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FaultInjector } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { startTestStack } from '../support/local-stack';
import { runChaosOnStack } from './on-local-stack';
import { ChaosTrace } from './trace';

let stack: LocalStack;
const injector = new FaultInjector();
const trace = new ChaosTrace();

beforeAll(async () => {
  // Every injected fault would be logged as a warning; the tally below says what happened.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stack = await startTestStack({ faults: injector, plugins: [trace.plugin] });
});
afterAll(() => stack?.stop());

it('loses nothing and keeps each sender’s order under drops, forgotten acks and 5 % faults', { timeout: 480_000 }, async () => {
  const { report, table } = await runChaosOnStack(stack, injector, {
    trace,
    users: 20,
    messages: 1000,
    meanMsBetweenDrops: 1500,
    skipAckShare: 0.2,
    groupShare: 0.2,
    stallMs: 60_000,
    faults: { dynamodb: 0.05, connections: 0.05 },
  });
  console.log(`chaos (bounded run)\n${table}`);
  expect(report.accepted).toBe(1000);
  expect(report.acceptedToGroups).toBeGreaterThan(0);
  expect(report.details).toEqual([]);
  expect(report.lost).toBe(0);
  expect(report.outOfOrder).toBe(0);
  expect(report.acceptedNotStored).toBe(0);
  expect(report.unacceptedDeliveries).toBe(0);
  // The run did what it says: sockets dropped, and faults were injected of every kind.
  expect(report.drops).toBeGreaterThan(0);
  expect([...injector.injected.keys()].length).toBe(7);
});
