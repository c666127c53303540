import { DeleteCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { OfflineQueue, QueuedMessage } from '../offline-queue';
import { offlineMessageKey, offlineMessagesTable, type KeyOf } from '../tables';
import { batchWriteAll } from './batch';

/** A stored message: plain attributes, readable in the DynamoDB console. */
interface OfflineMessageItem extends KeyOf<typeof offlineMessagesTable> {
  type: QueuedMessage['type'];
  from: string;
  to: string;
  /**
   * The body as the JSON text the sender sent. Stored as text rather than a DynamoDB map so that any
   * JSON survives: DynamoDB maps refuse nesting past 32 levels and numbers past 38 digits.
   */
  body: string;
  sentAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after. */
  expiresAt: number;
  qos: 0 | 1;
}

export class DynamoOfflineQueue implements OfflineQueue {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Items per page; unset, DynamoDB's own 1 MB pages. */
    private readonly pageSize?: number,
  ) {}

  async put(recipientId: string, message: QueuedMessage): Promise<void> {
    const item: OfflineMessageItem = {
      ...offlineMessageKey(recipientId, message.id),
      type: message.type,
      from: message.from,
      to: message.to,
      body: message.bodyJson,
      sentAt: message.sentAt.toISOString(),
      expiresAt: epochSeconds(message.expiresAt),
      qos: message.qos,
    };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async remove(recipientId: string, id: string): Promise<boolean> {
    const result = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: offlineMessageKey(recipientId, id), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }

  async removeMany(recipientId: string, ids: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      ids.map((id) => ({ DeleteRequest: { Key: offlineMessageKey(recipientId, id) } })),
    );
  }

  async *pages(recipientId: string): AsyncIterable<QueuedMessage[]> {
    const pages = paginateQuery(
      { client: this.db, ...(this.pageSize ? { pageSize: this.pageSize } : {}) },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#user = :user',
        ExpressionAttributeNames: { '#user': offlineMessagesTable.partitionKey },
        ExpressionAttributeValues: { ':user': recipientId },
      },
    );
    for await (const page of pages) {
      yield ((page.Items ?? []) as OfflineMessageItem[]).map(toQueuedMessage);
    }
  }
}

function toQueuedMessage(item: OfflineMessageItem): QueuedMessage {
  return {
    id: item.id,
    type: item.type,
    from: item.from,
    to: item.to,
    bodyJson: item.body,
    sentAt: new Date(item.sentAt),
    expiresAt: new Date(item.expiresAt * 1000),
    qos: item.qos,
  };
}
