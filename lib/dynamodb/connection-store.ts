import { DeleteCommand, PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { Connection, ConnectionStore } from '../connections';
import { connectionKey, connectionsTable, type KeyOf } from '../tables';

interface ConnectionItem extends KeyOf<typeof connectionsTable> {
  deviceId?: string;
  connectedAt: string;
  expiresAt: number;
}

export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(connection: Connection, expiresAt: Date): Promise<void> {
    const item: ConnectionItem = {
      ...connectionKey(connection.userId, connection.connectionId),
      deviceId: connection.deviceId,
      connectedAt: connection.connectedAt.toISOString(),
      expiresAt: epochSeconds(expiresAt),
    };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async delete(userId: string, connectionId: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: connectionKey(userId, connectionId) }));
  }

  async listByUser(userId: string, now: Date): Promise<Connection[]> {
    const connections: Connection[] = [];
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.tableName,
        KeyConditionExpression: '#user = :user',
        // TTL deletes lag behind expiry by up to days: never trust an expired record.
        FilterExpression: '#expires > :now',
        ExpressionAttributeNames: { '#user': connectionsTable.partitionKey, '#expires': connectionsTable.timeToLiveAttribute },
        ExpressionAttributeValues: { ':user': userId, ':now': epochSeconds(now) },
      },
    );
    for await (const page of pages) {
      for (const item of (page.Items ?? []) as ConnectionItem[]) {
        connections.push({
          userId: item.userId,
          connectionId: item.connectionId,
          ...(item.deviceId === undefined ? {} : { deviceId: item.deviceId }),
          connectedAt: new Date(item.connectedAt),
        });
      }
    }
    return connections;
  }
}
