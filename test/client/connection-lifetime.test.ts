/**
 * API Gateway closes every connection after 2 hours (SPEC §10): the client opens a new one before that
 * and closes the old one after, so the app sees neither a gap nor a repeat. Here the emulator's maximum
 * is 6 s, and the client is told so.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionState } from 'pigeonhole/client';
import type { LocalStack } from '../../local/stack';
import { startTestStack } from '../support/local-stack';
import { clientFor, collect, watchConnections } from './helpers';

const maxConnectionMs = 6000;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ gatewayLimits: { maxConnectionMs } });
});
afterAll(() => stack?.stop());

describe('a session longer than the maximum connection time', () => {
  it('is carried over to new connections without a gap or a repeat', async () => {
    const [senderId, readerId] = [`sal-${randomUUID().slice(0, 8)}`, `ray-${randomUUID().slice(0, 8)}`];
    const connections = watchConnections(stack);
    const closeCodes: number[] = [];
    stack.gateway.events.on('disconnected', ({ principalId, code }) => principalId === readerId && closeCodes.push(code));

    const reader = clientFor(stack.wsUrl, await stack.issueToken(readerId), { maxConnectionMs });
    const sender = clientFor(stack.wsUrl, await stack.issueToken(senderId), { maxConnectionMs });
    const inbox = collect(reader);
    await Promise.all([reader.connect(), sender.connect()]);
    const states: ConnectionState[] = [];
    reader.on('state', (state) => void states.push(state));

    // Messages flow until the reader has been carried over twice.
    let sent = 0;
    while (connections.openedBy(readerId) < 3) await sender.send({ type: 'private', target: readerId, body: { n: sent++ } });
    const handed = await inbox.until(sent);
    await Promise.all([reader.close(), sender.close()]);

    expect(handed.map((m) => (m.body as { n: number }).n)).toEqual(Array.from({ length: sent }, (_, n) => n));
    expect(new Set(handed.map((m) => m.id)).size).toBe(sent);
    // Never without a connection: no 'reconnecting' between the first 'open' and close().
    expect(states).toEqual(['closed']);
    // The two replaced connections were closed by the client (1000), not by the gateway's limit (1001).
    // Their `$disconnect` may still be on its way once close() returns on a busy machine: waited for.
    await expect.poll(() => closeCodes.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(closeCodes.filter((code) => code !== 1000)).toEqual([]);
  }, 60_000);
});
