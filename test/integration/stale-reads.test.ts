/**
 * The stale-read fault mode against DynamoDB Local: eventually consistent reads may answer the item
 * as it was a moment ago, strongly consistent ones never do.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectionsTable, offlineMessagesTable } from '../../lib/tables';
import { StaleReads } from '../../local/stale-reads';
import { createTestTables, localDynamoDbEndpoint } from '../support/local-stack';

let tableName: (table: typeof connectionsTable | typeof offlineMessagesTable) => string;
beforeAll(async () => {
  tableName = await createTestTables([connectionsTable, offlineMessagesTable]);
});

function clientWith(stale: StaleReads): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: localDynamoDbEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  client.middlewareStack.use(stale.plugin as never);
  return DynamoDBDocumentClient.from(client);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('stale reads', () => {
  it('answers eventually consistent reads from the version a write just replaced, and consistent ones from the latest', async () => {
    const stale = new StaleReads({ rate: 1, windowMs: 1500, random: () => 0 });
    const db = clientWith(stale);
    const connections = tableName(connectionsTable);
    const messages = tableName(offlineMessagesTable);
    await db.send(new PutCommand({ TableName: connections, Item: { userId: 'u1', version: 1 } }));
    await db.send(new PutCommand({ TableName: messages, Item: { userId: 'u1', id: 'm1', version: 1 } }));
    // Older than the window by the time of the reads: never seen again.
    await pause(1600);
    const updated = await db.send(
      new UpdateCommand({ TableName: connections, Key: { userId: 'u1' }, UpdateExpression: 'SET version = :v', ExpressionAttributeValues: { ':v': 2 } }),
    );
    // The ALL_OLD it asked for on the caller's behalf stays hidden.
    expect(updated.Attributes).toBeUndefined();
    await db.send(new PutCommand({ TableName: messages, Item: { userId: 'u1', id: 'm1', version: 2 } }));
    await db.send(new PutCommand({ TableName: messages, Item: { userId: 'u1', id: 'm2', version: 1 } }));

    const get = (consistent: boolean) => db.send(new GetCommand({ TableName: connections, Key: { userId: 'u1' }, ConsistentRead: consistent }));
    expect((await get(true)).Item).toEqual({ userId: 'u1', version: 2 });
    expect((await get(false)).Item).toEqual({ userId: 'u1', version: 1 });

    const batch = await db.send(new BatchGetCommand({ RequestItems: { [connections]: { Keys: [{ userId: 'u1' }] } } }));
    expect(batch.Responses?.[connections]).toEqual([{ userId: 'u1', version: 1 }]);
    const strongBatch = await db.send(new BatchGetCommand({ RequestItems: { [connections]: { Keys: [{ userId: 'u1' }], ConsistentRead: true } } }));
    expect(strongBatch.Responses?.[connections]).toEqual([{ userId: 'u1', version: 2 }]);

    const query = (consistent: boolean) =>
      db.send(
        new QueryCommand({
          TableName: messages,
          KeyConditionExpression: 'userId = :u',
          ExpressionAttributeValues: { ':u': 'u1' },
          ConsistentRead: consistent,
        }),
      );
    // m1 as it was; m2, created within the window, not yet there.
    expect((await query(false)).Items).toEqual([{ userId: 'u1', id: 'm1', version: 1 }]);
    expect((await query(true)).Items).toEqual([
      { userId: 'u1', id: 'm1', version: 2 },
      { userId: 'u1', id: 'm2', version: 1 },
    ]);
    expect(stale.served).toEqual(new Map([['GetItem', 1], ['BatchGetItem', 1], ['Query', 2]]));

    // Converged once the window has passed.
    await pause(1600);
    expect((await get(false)).Item).toEqual({ userId: 'u1', version: 2 });
  });

  it('answers nothing for an item created within the window, keeps an ALL_OLD the caller asked for, and stays out of the way at rate 0', async () => {
    const connections = tableName(connectionsTable);
    const stale = new StaleReads({ rate: 1, windowMs: 5000, random: () => 0 });
    const db = clientWith(stale);
    await db.send(new PutCommand({ TableName: connections, Item: { userId: 'u2', version: 1 } }));
    const replaced = await db.send(new PutCommand({ TableName: connections, Item: { userId: 'u2', version: 2 }, ReturnValues: 'ALL_OLD' }));
    expect(replaced.Attributes).toEqual({ userId: 'u2', version: 1 });
    const seen = await db.send(new GetCommand({ TableName: connections, Key: { userId: 'u2' } }));
    expect(seen.Item).toBeUndefined();

    const fresh = clientWith(new StaleReads({ rate: 0 }));
    await fresh.send(new PutCommand({ TableName: connections, Item: { userId: 'u3', version: 1 } }));
    expect((await fresh.send(new GetCommand({ TableName: connections, Key: { userId: 'u3' } }))).Item).toEqual({ userId: 'u3', version: 1 });
  });
});
