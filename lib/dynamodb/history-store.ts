import { DeleteCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HistoryPage, HistoryStore } from '../conversations/history';
import { historyKey, historyTable, type KeyOf } from '../tables';
import { queryAll } from './query';
import { batchWriteAll } from './batch';
import { fromMessageAttributes, toMessageAttributes, type MessageAttributes } from './message-item';
import type { QueuedMessage } from '../messages';

type HistoryItem = MessageAttributes & KeyOf<typeof historyTable>;

export class DynamoHistoryStore implements HistoryStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(conversationId: string, message: QueuedMessage): Promise<void> {
    const item: HistoryItem = { ...toMessageAttributes(message), ...historyKey(conversationId, message.id) };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async page(conversationId: string, options: { before?: string; limit: number; now: Date }): Promise<HistoryPage> {
    const found: QueuedMessage[] = [];
    let startKey: Record<string, unknown> | undefined;
    // Expired messages TTL has not yet removed are skipped, so a page may take more than one read.
    do {
      const result = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: options.before ? '#c = :c AND #id < :before' : '#c = :c',
          ExpressionAttributeNames: { '#c': historyTable.partitionKey, ...(options.before && { '#id': historyTable.sortKey }) },
          ExpressionAttributeValues: { ':c': conversationId, ...(options.before && { ':before': options.before }) },
          ScanIndexForward: false,
          // Strongly consistent: a conversation opened on another device shows what was sent a moment ago.
          ConsistentRead: true,
          // One more than asked for, to know whether older messages remain.
          Limit: options.limit + 1 - found.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (result.Items ?? []) as HistoryItem[]) {
        const message = fromMessageAttributes(item);
        if (message.expiresAt > options.now) found.push(message);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey && found.length <= options.limit);
    return { messages: found.slice(0, options.limit), more: found.length > options.limit };
  }

  async removeOne(conversationId: string, id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: historyKey(conversationId, id) }));
  }

  async removeFrom(conversationId: string, fromUserId: string): Promise<string[]> {
    const ids = (await queryAll(this.db, {
      TableName: this.tableName,
      KeyConditionExpression: '#c = :c',
      FilterExpression: '#from = :from',
      ProjectionExpression: '#id',
      ExpressionAttributeNames: { '#c': historyTable.partitionKey, '#from': 'from', '#id': historyTable.sortKey },
      ExpressionAttributeValues: { ':c': conversationId, ':from': fromUserId },
    })).map((item) => item.id as string);
    await batchWriteAll(this.db, this.tableName, ids.map((id) => ({ DeleteRequest: { Key: historyKey(conversationId, id) } })));
    return ids;
  }
}
