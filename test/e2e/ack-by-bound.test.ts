/**
 * Acknowledging a drain by bound (lib/delivery/ordering.ts, rule 6): after a drain's `drained` frame,
 * one `ack` with `upTo` acknowledges everything it delivered, and a reconnect delivers exactly the
 * rest. Ids are assigned before the write lands, so a message can be stored under a bound already
 * given: here the first try of a send fails after its id was claimed, a later message is drained and
 * acknowledged, and the resend then stores the first under its smaller id. It is never lost.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { boundAckMinimum } from '../../lib/delivery/ordering';
import type { Message } from '../../lib/protocol';
import { offlineMessagesTable } from '../../lib/tables';
import { FaultInjector } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;
const faults = new FaultInjector();

beforeAll(async () => {
  // The injected failure is logged by the handler; the assertions say what happened.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stack = await startTestStack({ faults });
});
afterAll(() => stack?.stop());
afterEach(async () => {
  faults.clear();
  await stack.lambda.idle();
});

const user = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

const send = (client: TestClient, target: string, n: number, clientMsgId = randomUUID()) =>
  client.request({ action: 'send', type: 'private', target, clientMsgId, body: { n } });

/**
 * Connects and collects what the drain delivers, up to its `drained` frame: there is one from
 * boundAckMinimum messages on (fewer are acked by ids, a bound would cost more than it saves).
 */
async function drain(userId: string, expected: number): Promise<{ client: TestClient; messages: Message[]; upTo: string | undefined }> {
  const client = await connect(userId);
  const messages = expected > 0 ? await client.messages(expected) : [];
  const upTo = expected >= boundAckMinimum ? ((await client.next((frame) => frame.type === 'drained')).upTo as string) : undefined;
  return { client, messages, upTo };
}

const bodies = (messages: Message[]) => messages.map((message) => (message.body as { n: number }).n);

/** Closes and waits for `$disconnect`, so that the next connect is the user's only connection. */
async function leave(client: TestClient): Promise<void> {
  await client.close();
  await stack.lambda.idle();
}

describe('an ack by bound', () => {
  it('acknowledges the whole drain in one frame, and a reconnect delivers exactly the unacknowledged rest', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const sender = await connect(alice);
    for (let n = 1; n <= 5; n += 1) expect(await send(sender, bob, n)).toMatchObject({ status: 'accepted' });

    const first = await drain(bob, 5);
    expect(bodies(first.messages)).toEqual([1, 2, 3, 4, 5]);
    expect(first.client.messageFrames.every((frame) => frame.drain === true)).toBe(true);
    expect(first.upTo).toBe(first.messages.at(-1)?.id);
    expect(await first.client.request({ action: 'ack', upTo: first.upTo })).toMatchObject({ type: 'acked', ids: [], upTo: first.upTo });

    // Pushed while bob is online, and not acknowledged: a bound covers only what a drain delivered.
    for (let n = 6; n <= 8; n += 1) await send(sender, bob, n);
    expect(bodies(await first.client.messages(3))).toEqual([6, 7, 8]);
    expect(await first.client.request({ action: 'ack', upTo: (await itemsOf(stack, offlineMessagesTable, bob)).at(-1)?.id })).toMatchObject({
      upTo: null,
    });
    await leave(first.client);

    const second = await drain(bob, 3);
    expect(bodies(second.messages)).toEqual([6, 7, 8]);
    expect(await second.client.request({ action: 'ack', upTo: second.upTo })).toMatchObject({ upTo: second.upTo });
    await leave(second.client);

    // Nothing left: no messages, no `drained` frame; the acknowledged items wait for their TTL.
    const third = await connect(bob);
    await expect(third.next(() => true, 1000)).rejects.toThrow(/no matching frame/);
    expect(await itemsOf(stack, offlineMessagesTable, bob)).toHaveLength(8);
    await leave(third);
    await sender.close();
  });

  it('is not offered for a drain of fewer than boundAckMinimum messages: its frames are unmarked, and ids ack them', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const sender = await connect(alice);
    for (let n = 1; n < boundAckMinimum; n += 1) await send(sender, bob, n);
    const { client, messages } = await drain(bob, boundAckMinimum - 1);
    await expect(client.next((frame) => frame.type === 'drained', 1000)).rejects.toThrow(/no matching frame/);
    expect(client.messageFrames.some((frame) => frame.drain === true)).toBe(false);
    expect(await client.request({ action: 'ack', upTo: messages.at(-1)?.id })).toMatchObject({ upTo: null });
    expect(await client.request({ action: 'ack', ids: messages.map((m) => m.id) })).toMatchObject({ ids: messages.map((m) => m.id) });
    await leave(client);
    await sender.close();
  });

  it('is refused past what the connection’s drain delivered, and on a connection that drained nothing', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const sender = await connect(alice);
    for (let n = 1; n <= 3; n += 1) await send(sender, bob, n);
    const { client, messages } = await drain(bob, 3);
    const later = await send(sender, bob, 4);
    await client.messages(1);
    expect(await client.request({ action: 'ack', upTo: later.id })).toMatchObject({ upTo: null });
    // Explicit ids still work, for old clients and for what came live.
    const ids = [...messages.map((m) => m.id), later.id];
    expect(await client.request({ action: 'ack', ids })).toMatchObject({ ids });
    expect(await client.request({ action: 'ack', ids: [later.id], upTo: later.id })).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    await leave(client);

    const empty = await connect(bob);
    expect(await empty.request({ action: 'ack', upTo: later.id })).toMatchObject({ upTo: null });
    await leave(empty);
    await sender.close();
  });

  it('answers a malformed ack BAD_REQUEST, saying why, and acknowledges nothing', async () => {
    const [alice, bob] = [user('alice'), user('bob')];
    const sender = await connect(alice);
    for (let n = 1; n <= 3; n += 1) await send(sender, bob, n);
    const first = await drain(bob, 3);
    for (const [frame, why] of [
      [{ action: 'ack' }, 'needs either ids or upTo, not both'],
      [{ action: 'ack', ids: [first.upTo], upTo: first.upTo }, 'needs either ids or upTo, not both'],
      [{ action: 'ack', upTo: 'not-an-id' }, 'upTo must be a message id'],
      [{ action: 'ack', upTo: 42 }, 'upTo must be a string'],
    ] as const) {
      const reply = await first.client.request(frame);
      expect(reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
      expect(reply.message).toContain(why);
    }
    await leave(first.client);
    // Nothing was acknowledged: the whole drain comes again.
    const again = await drain(bob, 3);
    expect(again.messages.map((message) => message.id)).toEqual(first.messages.map((message) => message.id));
    await leave(again.client);
    await sender.close();
  });
});

describe('a message stored under a bound already given', () => {
  /**
   * alice's first send claims its id, then its queue write fails (INTERNAL); her second is stored,
   * drained by bob and acknowledged by bound; the resend of the first then stores it, late, under
   * the smaller id. `whileBob`: what bob does between the ack and the resend.
   */
  async function lateWrite(whileBob: 'offline' | 'online' | 'holding the ack') {
    const [alice, bob] = [user('alice'), user('bob')];
    const sender = await connect(alice);
    const clientMsgId = randomUUID();
    const stopFaults = faults.inject({ client: 'DynamoDBClient', command: 'PutItemCommand', table: stack.tableName(offlineMessagesTable), fault: 'server-error' });
    expect(await send(sender, bob, 1, clientMsgId)).toMatchObject({ type: 'error', code: 'INTERNAL' });
    stopFaults();
    const later: string[] = [];
    for (let n = 2; n <= 4; n += 1) later.push((await send(sender, bob, n)).id as string);

    const drained = await drain(bob, 3);
    expect(bodies(drained.messages)).toEqual([2, 3, 4]);
    const holding = whileBob === 'holding the ack';
    if (!holding) expect(await drained.client.request({ action: 'ack', upTo: drained.upTo })).toMatchObject({ upTo: later.at(-1) });
    if (whileBob === 'offline') await leave(drained.client);

    const resend = await send(sender, bob, 1, clientMsgId);
    expect(resend).toMatchObject({ status: 'duplicate' });
    expect((resend.id as string) < (later[0] as string)).toBe(true);
    return { sender, bob, drained, resend, later, holding, online: whileBob !== 'offline' };
  }

  it.each(['offline', 'online', 'holding the ack'] as const)('is delivered on the next connect when bob was %s', async (whileBob) => {
    const { sender, bob, drained, resend, later, holding, online } = await lateWrite(whileBob);
    if (online) {
      // Pushed live; bob's client never acknowledges it (its process died, say).
      expect((await drained.client.messages(1))[0]?.id).toBe(resend.id);
      // The bound that would have covered it unseen is no longer given.
      if (holding) expect(await drained.client.request({ action: 'ack', upTo: drained.upTo })).toMatchObject({ upTo: null });
      await leave(drained.client);
    }
    const next = await drain(bob, 4);
    // The late message first, in id order; the others come again too (at least once), and the client drops them by id.
    expect(next.messages.map((message) => message.id)).toEqual([resend.id, ...later]);
    expect(await next.client.request({ action: 'ack', upTo: next.upTo })).toMatchObject({ upTo: later.at(-1) });
    await leave(next.client);
    const after = await connect(bob);
    await expect(after.next(() => true, 1000)).rejects.toThrow(/no matching frame/);
    await leave(after);
    await sender.close();
  });
});
