/** Draining long queues: complete, in order, and packed close to the fewest 32 KB frames possible. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoOfflineQueue } from '../../lib/dynamodb/offline-queue-store';
import { messageIdFactory } from '../../lib/sending/message-ids';
import { messageExpiry } from '../../lib/retention/expiry';
import { offlineMessagesTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { localDocumentClient, startTestStack } from '../support/local-stack';
import type { QueuedMessage } from '../../lib/messages';

let stack: LocalStack;
let queue: DynamoOfflineQueue;
const frameBytes = 32 * 1024;

beforeAll(async () => {
  stack = await startTestStack();
  queue = new DynamoOfflineQueue(localDocumentClient(), stack.tableName(offlineMessagesTable));
});
afterAll(() => stack?.stop());

/** Stores messages straight into the queue through the real adapter: the drain is what is under test. */
async function seed(userId: string, count: number, bodyJson: string): Promise<string[]> {
  const newId = messageIdFactory();
  const now = new Date();
  // From ten senders, each well within maxOfflineMessagesPerSender: all of them are to be delivered.
  const messages: QueuedMessage[] = Array.from({ length: count }, (_, i) => ({
    id: newId(now),
    type: 'private',
    from: `seeder-${i % 10}`,
    to: userId,
    bodyJson,
    sentAt: now,
    expiresAt: messageExpiry(now, 86_400, 7),
    qos: 1,
  }));
  for (let i = 0; i < messages.length; i += 50) {
    await Promise.all(messages.slice(i, i + 50).map((message) => queue.put(userId, message)));
  }
  return messages.map((message) => message.id);
}

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

describe('a long queue', () => {
  it('drains 1,000 queued 200-byte messages complete, in order, in at most 1.2 × the fewest 32 KB frames', async () => {
    const userId = `reader-${randomUUID().slice(0, 8)}`;
    const body = JSON.stringify('x'.repeat(198));
    expect(Buffer.byteLength(body)).toBe(200);
    const ids = await seed(userId, 1000, body);

    const client = await connect(userId);
    const messages = await client.messages(1000, 20_000);
    expect(messages.map((m) => m.id)).toEqual(ids);

    const totalBytes = messages.reduce((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)), 0);
    const floor = Math.ceil(totalBytes / frameBytes);
    const frames = client.messageFrames.length;
    console.log(`1,000 × 200-byte bodies: ${totalBytes} bytes of messages in ${frames} frames; floor ${floor}; ratio ${(frames / floor).toFixed(3)}`);
    expect(frames).toBeLessThanOrEqual(1.2 * floor);
    for (const size of client.receivedBytes) expect(size).toBeLessThanOrEqual(frameBytes);
    await client.close();
  }, 60_000);

  it('drains a queue of several 1 MB pages, too big to hold, keeping the newest 1,000 (the default cap)', async () => {
    const userId = `bulk-${randomUUID().slice(0, 8)}`;
    // 1,100 × 4 KB: over 4 MB, so the drain counts the queue first and reads it again to deliver.
    const ids = await seed(userId, 1100, JSON.stringify({ text: 'y'.repeat(4000) }));
    const client = await connect(userId);
    const dropped = await client.next((frame) => frame.type === 'dropped', 30_000);
    expect(dropped).toEqual({ type: 'dropped', count: 100, reason: 'overflow' });
    const messages = await client.messages(1000, 30_000);
    expect(messages.map((m) => m.id)).toEqual(ids.slice(100));
    // The dropped frame came before any message.
    expect(client.received.findIndex((frame) => frame.type === 'dropped')).toBe(0);
    await client.close();
  }, 120_000);
});

describe('sending while a long queue drains', () => {
  it('delivers what was sent during the drain after the queue, in order, none skipped', async () => {
    const [readerId, writerId] = [`reader-${randomUUID().slice(0, 8)}`, `writer-${randomUUID().slice(0, 8)}`];
    const ids = await seed(readerId, 600, JSON.stringify({ text: 'z'.repeat(1000) }));
    const writer = await connect(writerId);

    const reader = await connect(readerId);
    // Sent at once, while the drain is under way: pushing them now would overtake the queue.
    const sent: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const reply = await writer.request({ action: 'send', type: 'private', target: readerId, clientMsgId: randomUUID(), body: i });
      expect(reply).toMatchObject({ status: 'accepted' });
      sent.push(reply.id as string);
    }
    // In order once duplicates are dropped by id, as clients do: a message the drain has just sent can
    // also be pushed, when the drain finished between the send's lookup and its push.
    const arrived = new Set<string>();
    while (arrived.size < 620) {
      const frame = await reader.next((f) => f.type === 'messages', 30_000);
      for (const message of frame.messages as Array<{ id: string }>) arrived.add(message.id);
    }
    expect([...arrived]).toEqual([...ids, ...sent]);
    await Promise.all([reader.close(), writer.close()]);
  }, 60_000);
});
