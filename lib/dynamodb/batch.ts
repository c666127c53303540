/**
 * BatchGetItem and BatchWriteItem at their limits (100 keys, 25 writes a request), retrying what
 * DynamoDB leaves unprocessed under load, with backoff, as the DynamoDB developer guide advises.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

export const batchGetLimit = 100;
export const batchWriteLimit = 25;
const maxRounds = 8;

type Key = Record<string, unknown>;
type Item = Record<string, unknown>;
type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export async function batchGetAll(
  db: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  options: { consistent?: boolean } = {},
): Promise<Item[]> {
  const found: Item[] = [];
  await Promise.all(
    chunk(keys, batchGetLimit).map((batch) =>
      untilAllProcessed('BatchGetItem', batch, async (pending) => {
        const result = await db.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: options.consistent ?? false } } }),
        );
        found.push(...(result.Responses?.[tableName] ?? []));
        return (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
      }),
    ),
  );
  return found;
}

export async function batchWriteAll(db: DynamoDBDocumentClient, tableName: string, requests: readonly WriteRequest[]): Promise<void> {
  await Promise.all(
    chunk(requests, batchWriteLimit).map((batch) =>
      untilAllProcessed('BatchWriteItem', batch, async (pending) => {
        const result = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
        return result.UnprocessedItems?.[tableName] ?? [];
      }),
    ),
  );
}

/** Sends a batch, then what it left unprocessed, with growing pauses, until nothing is left. */
async function untilAllProcessed<T>(operation: string, batch: T[], send: (pending: T[]) => Promise<T[]>): Promise<void> {
  let pending = batch;
  for (let round = 0; pending.length > 0; round += 1) {
    if (round === maxRounds) throw new Error(`${operation} left ${pending.length} requests unprocessed`);
    if (round > 0) await backoff(round);
    pending = await send(pending);
  }
}

function backoff(round: number): Promise<void> {
  const ms = Math.min(1000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
