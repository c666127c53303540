import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { Connection, ConnectionStore } from '../connections';
import { connectionKey, connectionsTable } from '../tables';
import { batchGetAll } from './batch';

/** One attribute per open connection on the user's item, e.g. `connection:L0SM9cOFvHcCIhw=`. */
const connectionPrefix = 'connection:';

interface ConnectionEntry {
  deviceId?: string;
  connectedAt: string;
  expiresAt: number;
}

export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(connection: Connection, expiresAt: Date): Promise<void> {
    const entry: ConnectionEntry = {
      ...(connection.deviceId === undefined ? {} : { deviceId: connection.deviceId }),
      connectedAt: connection.connectedAt.toISOString(),
      expiresAt: epochSeconds(expiresAt),
    };
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: connectionKey(connection.userId),
        // The item lives as long as its newest connection; older entries are filtered on read.
        UpdateExpression: 'SET #connection = :entry, #expires = :expires',
        ExpressionAttributeNames: {
          '#connection': `${connectionPrefix}${connection.connectionId}`,
          '#expires': connectionsTable.timeToLiveAttribute,
        },
        ExpressionAttributeValues: { ':entry': entry, ':expires': entry.expiresAt },
      }),
    );
  }

  async remove(userId: string, connectionId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: connectionKey(userId),
          UpdateExpression: 'REMOVE #connection',
          // Without this, removing from a user who has no item would create one that never expires.
          ConditionExpression: 'attribute_exists(#user)',
          ExpressionAttributeNames: {
            '#connection': `${connectionPrefix}${connectionId}`,
            '#user': connectionsTable.partitionKey,
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async listByUsers(userIds: readonly string[], now: Date): Promise<Map<string, Connection[]>> {
    const unique = [...new Set(userIds)];
    const items = await batchGetAll(this.db, this.tableName, unique.map(connectionKey));
    const byUser = new Map<string, Connection[]>();
    const nowSeconds = epochSeconds(now);
    for (const item of items) {
      const userId = item[connectionsTable.partitionKey] as string;
      const open: Connection[] = [];
      for (const [name, value] of Object.entries(item)) {
        if (!name.startsWith(connectionPrefix)) continue;
        const entry = value as ConnectionEntry;
        // TTL deletes lag behind expiry by up to days: never trust an expired entry.
        if (entry.expiresAt <= nowSeconds) continue;
        open.push({
          userId,
          connectionId: name.slice(connectionPrefix.length),
          ...(entry.deviceId === undefined ? {} : { deviceId: entry.deviceId }),
          connectedAt: new Date(entry.connectedAt),
        });
      }
      open.sort((a, b) => a.connectedAt.getTime() - b.connectedAt.getTime() || a.connectionId.localeCompare(b.connectionId));
      if (open.length > 0) byUser.set(userId, open);
    }
    return byUser;
  }
}
