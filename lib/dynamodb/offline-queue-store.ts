import { DeleteCommand, GetCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OfflineQueue } from '../delivery/offline-queue';
import { offlineMessageKey, offlineMessagesTable, type KeyOf } from '../tables';
import { queryAll } from './query';
import { batchWriteAll } from './batch';
import { fromMessageAttributes, toMessageAttributes, type MessageAttributes } from './message-item';
import type { QueuedMessage } from '../messages';

type OfflineMessageItem = MessageAttributes & KeyOf<typeof offlineMessagesTable>;

export class DynamoOfflineQueue implements OfflineQueue {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Items per page; unset, DynamoDB's own 1 MB pages. */
    private readonly pageSize?: number,
  ) {}

  async put(recipientId: string, message: QueuedMessage): Promise<void> {
    const item: OfflineMessageItem = { ...toMessageAttributes(message), ...offlineMessageKey(recipientId, message.id) };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async putMany(copies: ReadonlyArray<{ recipientId: string; message: QueuedMessage }>): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      copies.map(({ recipientId, message }) => ({
        PutRequest: { Item: { ...toMessageAttributes(message), ...offlineMessageKey(recipientId, message.id) } },
      })),
    );
  }

  async get(recipientId: string, id: string): Promise<QueuedMessage | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: offlineMessageKey(recipientId, id), ConsistentRead: true }),
    );
    return result.Item && fromMessageAttributes(result.Item as OfflineMessageItem);
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

  async removeGroupMessages(recipientId: string, groupId: string, fromUserId: string): Promise<number> {
    const ids = (await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: '#user = :user',
      FilterExpression: '#type = :group AND #to = :groupId AND #from = :from',
      ProjectionExpression: '#id',
      ExpressionAttributeNames: { '#user': offlineMessagesTable.partitionKey, '#type': 'type', '#to': 'to', '#from': 'from', '#id': 'id' },
      ExpressionAttributeValues: { ':user': recipientId, ':group': 'group', ':groupId': groupId, ':from': fromUserId },
    })).map((item) => item.id as string);
    await this.removeMany(recipientId, ids);
    return ids.length;
  }

  async *pages(recipientId: string, from?: string, after?: string): AsyncIterable<QueuedMessage[]> {
    // Whichever bound is higher: `from` is inclusive, `after` is not.
    const start = from !== undefined && (after === undefined || from > after) ? { op: '>=', id: from } : after ? { op: '>', id: after } : undefined;
    const pages = paginateQuery(
      { client: this.db, ...(this.pageSize ? { pageSize: this.pageSize } : {}) },
      {
        TableName: this.tableName,
        KeyConditionExpression: start ? `#user = :user AND #id ${start.op} :start` : '#user = :user',
        ExpressionAttributeNames: { '#user': offlineMessagesTable.partitionKey, ...(start && { '#id': offlineMessagesTable.sortKey }) },
        ExpressionAttributeValues: { ':user': recipientId, ...(start && { ':start': start.id }) },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      yield ((page.Items ?? []) as OfflineMessageItem[]).map(fromMessageAttributes);
    }
  }
}
