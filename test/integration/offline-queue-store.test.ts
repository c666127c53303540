import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoOfflineQueue } from '../../lib/dynamodb/offline-queue-store';
import { messageIdFactory } from '../../lib/sending/message-ids';
import { acknowledge } from '../../lib/delivery/offline-queue';
import { messageExpiry } from '../../lib/retention/expiry';
import { offlineMessagesTable } from '../../lib/tables';
import { createTestTables, localDocumentClient } from '../support/local-stack';
import type { QueuedMessage } from '../../lib/messages';

let table: string;
const newId = messageIdFactory();

beforeAll(async () => {
  table = (await createTestTables([offlineMessagesTable]))(offlineMessagesTable);
});

// In the real future: DynamoDB Local's TTL would delete items dated in the past.
const sentAt = new Date(Date.now() + 60_000);

function message(to: string, bodyJson: string): QueuedMessage {
  return { id: newId(sentAt), type: 'private', from: 'a', to, bodyJson, sentAt, expiresAt: messageExpiry(sentAt, 3600, 7), qos: 1 };
}

async function all(queue: DynamoOfflineQueue, userId: string) {
  const pages: QueuedMessage[][] = [];
  for await (const page of queue.pages(userId)) pages.push(page);
  return pages;
}

describe('DynamoOfflineQueue', () => {
  it('returns what was stored, body text and times intact', async () => {
    const queue = new DynamoOfflineQueue(localDocumentClient(), table);
    const stored = message('ann', '{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"big":1e300}');
    await queue.put('ann', stored);
    expect((await all(queue, 'ann')).flat()).toEqual([stored]);
  });

  it('reads a queue a page at a time, in id order', async () => {
    const queue = new DynamoOfflineQueue(localDocumentClient(), table, 7);
    const stored = Array.from({ length: 30 }, (_, i) => message('ben', JSON.stringify(i)));
    for (const m of [...stored].reverse()) await queue.put('ben', m);
    const pages = await all(queue, 'ben');
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(pages.flat().map((m) => m.id)).toEqual(stored.map((m) => m.id));
  });

  it('acknowledges only what is in the user’s own queue, and says so', async () => {
    const queue = new DynamoOfflineQueue(localDocumentClient(), table);
    const mine = message('cat', '"mine"');
    const theirs = message('dan', '"theirs"');
    await queue.put('cat', mine);
    await queue.put('dan', theirs);
    expect(await acknowledge(queue, 'cat', [mine.id, theirs.id, mine.id])).toEqual([mine.id]);
    expect(await acknowledge(queue, 'cat', [mine.id])).toEqual([]);
    expect((await all(queue, 'dan')).flat().map((m) => m.id)).toEqual([theirs.id]);
  });
});
