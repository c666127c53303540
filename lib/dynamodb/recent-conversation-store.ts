import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { Message } from '../protocol';
import type { RecentConversationStore, RecentEntry } from '../conversations/recent-conversations';
import { recentConversationKey, recentConversationsTable, type KeyOf } from '../tables';
import { queryAll } from './query';
import { batchWriteAll } from './batch';

interface RecentItem extends KeyOf<typeof recentConversationsTable> {
  type: RecentEntry['type'];
  target: string;
  /** JSON text (see message-item.ts for why text). */
  lastMessage: string;
  updatedAt: string;
  expiresAt: number;
}

/** One entry per conversation partner: `p#<user>`. */
const entryId = (target: string) => `p#${target}`;

export class DynamoRecentConversationStore implements RecentConversationStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(userId: string, entry: RecentEntry): Promise<void> {
    const item: RecentItem = {
      ...recentConversationKey(userId, entryId(entry.target)),
      type: entry.type,
      target: entry.target,
      lastMessage: JSON.stringify(entry.lastMessage),
      updatedAt: entry.updatedAt.toISOString(),
      expiresAt: epochSeconds(entry.expiresAt),
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // Two messages close together may be written out of order: never go back to the older.
          ConditionExpression: 'attribute_not_exists(updatedAt) OR updatedAt <= :at',
          ExpressionAttributeValues: { ':at': item.updatedAt },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async list(userId: string, now: Date): Promise<RecentEntry[]> {
    const items = await queryAll<RecentItem>(this.db, {
      TableName: this.tableName,
      // Strongly consistent: the list is pruned past the hundredth by what it reads, and an entry read
      // as it was before its latest message would be ranked too low and pruned.
      ConsistentRead: true,
      KeyConditionExpression: '#user = :user',
      ExpressionAttributeNames: { '#user': recentConversationsTable.partitionKey },
      ExpressionAttributeValues: { ':user': userId },
    });
    return items
      .filter((item) => item.expiresAt > epochSeconds(now))
      .map((item) => ({
        type: item.type,
        target: item.target,
        lastMessage: JSON.parse(item.lastMessage) as Message,
        updatedAt: new Date(item.updatedAt),
        expiresAt: new Date(item.expiresAt * 1000),
      }));
  }

  async forget(userId: string, targets: readonly string[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tableName,
      targets.map((target) => ({ DeleteRequest: { Key: recentConversationKey(userId, entryId(target)) } })),
    );
  }
}
