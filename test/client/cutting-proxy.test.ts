/**
 * The client through a TCP proxy that cuts every connection after a random 0.3–1.5 s, without a
 * close frame: what the client promises (SPEC §10) must hold however often the network drops.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PigeonholeClient } from 'pigeonhole/client';
import type { Message } from '../../lib/protocol';
import type { LocalStack } from '../../local/stack';
import { startCuttingProxy, type CuttingProxy } from '../support/cutting-proxy';
import { startTestStack } from '../support/local-stack';
import { clientFor, collect } from './helpers';

let stack: LocalStack;
let proxy: CuttingProxy;

beforeAll(async () => {
  // Every cut shows up in the handlers' warnings (a drain cut off, a post refused); the asserts say what matters.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stack = await startTestStack();
  proxy = await startCuttingProxy(stack.wsUrl, { minMs: 300, maxMs: 1500 });
});
afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function proxied(userId: string): Promise<PigeonholeClient> {
  const token = await stack.issueToken(userId);
  // Sends resent quickly: a reply lost with its connection is asked for again on the next one.
  return clientFor(proxy.url, () => token, { requestTimeoutMs: 2000 });
}

/** Resolves once every sender's messages 0…count-1 have been handed (under whatever id). */
const everySend = (senders: readonly string[], count: number) => (handed: readonly Message[]) =>
  idsBySend(handed).size === senders.length * count;

/** One id per message (SPEC §5), as the app sees it: the sends handed under more than one id. */
function underTwoIds(handed: readonly Message[]): string[] {
  return [...idsBySend(handed)].filter(([, ids]) => ids.size > 1).map(([send, ids]) => `${send}: ${[...ids].join(', ')}`);
}

/** Each handed message's (sender, n), and the ids each was handed under. */
function idsBySend(handed: readonly Message[]): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  for (const message of handed) {
    const key = `${message.from}#${(message.body as { n: number }).n}`;
    (ids.get(key) ?? ids.set(key, new Set()).get(key))?.add(message.id);
  }
  return ids;
}

describe('through a proxy that keeps cutting connections', () => {
  it('delivers 200 messages from two senders: none lost, none twice, each sender in order', async () => {
    const readerId = id('rea');
    const senderIds = [id('sea'), id('seb')];
    const reader = await proxied(readerId);
    const inbox = collect(reader);
    await reader.connect();
    const cutsBefore = proxy.cuts;

    await Promise.all(
      senderIds.map(async (senderId) => {
        const sender = await proxied(senderId);
        await sender.connect();
        // Each waits for its `sent` before the next (SPEC §5: then its messages arrive in send order).
        for (let n = 0; n < 100; n += 1) await sender.send({ type: 'private', target: readerId, body: { n } });
        await sender.close();
      }),
    );
    // Everything was accepted; only now may the reader's connections live long enough to finish.
    const handed = await inbox.until(everySend(senderIds, 100), 60_000);
    await reader.close();

    expect(proxy.cuts - cutsBefore).toBeGreaterThan(3);
    // Nothing handed twice: the client drops repeats by id.
    expect(new Set(handed.map((m) => m.id)).size).toBe(handed.length);
    // Nothing lost, and each sender's messages in send order (first sight of each).
    for (const senderId of senderIds) {
      const order = [...new Set(handed.filter((m) => m.from === senderId).map((m) => (m.body as { n: number }).n))];
      expect(order).toEqual(Array.from({ length: 100 }, (_, n) => n));
    }
    // One id per message (SPEC §5). Today's server can break this when a resend races the reader's
    // drain (the resend's copy is read before it is withdrawn); the fix is the server's, not a filter here.
    expect(underTwoIds(handed), 'messages handed to the app under two ids').toEqual([]);
  }, 120_000);

  it('settles 100 concurrent sends once each, and the recipient sees each under the one id it was sent as', async () => {
    const [senderId, readerId] = [id('sec'), id('reb')];
    const sender = await proxied(senderId);
    const reader = await proxied(readerId);
    const inbox = collect(reader);
    await Promise.all([sender.connect(), reader.connect()]);

    const settled = new Map<number, number>();
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        sender.send({ type: 'private', target: readerId, body: { n } }).finally(() => settled.set(n, (settled.get(n) ?? 0) + 1)),
      ),
    );
    const handed = await inbox.until(everySend([senderId], 100), 60_000);
    await Promise.all([sender.close(), reader.close()]);

    expect([...settled.values()]).toEqual(Array.from({ length: 100 }, () => 1));
    // Each handed under the id its sender was told, and (SPEC §5) under no other.
    const handedIds = idsBySend(handed);
    expect(replies.filter((reply, n) => !handedIds.get(`${senderId}#${n}`)?.has(reply.id))).toEqual([]);
    expect(underTwoIds(handed), 'messages handed to the app under two ids').toEqual([]);
  }, 120_000);
});
