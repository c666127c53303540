import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AppSettings, UserSettings } from '../retention/settings';
import type { SettingsStore } from '../retention/settings-reader';
import { appConfigKey, userConfigKey } from '../tables';
import { batchGetAll } from './batch';

export class DynamoSettingsStore implements SettingsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getApp(options: { consistent?: boolean } = {}): Promise<Record<string, unknown> | undefined> {
    return this.get(appConfigKey(), options.consistent);
  }

  /** Sets only the keys changed, each as a plain attribute, so concurrent changes to other keys survive. */
  async updateApp(change: Partial<AppSettings>): Promise<void> {
    const entries = Object.entries(change);
    if (entries.length === 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: appConfigKey(),
        UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([key], i) => [`#k${i}`, key])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
      }),
    );
  }

  async getUser(userId: string, options: { consistent?: boolean } = {}): Promise<Record<string, unknown> | undefined> {
    return this.get(userConfigKey(userId), options.consistent);
  }

  async getUsers(userIds: readonly string[], options: { consistent?: boolean } = {}): Promise<Map<string, Record<string, unknown>>> {
    const items = await batchGetAll(this.db, this.tableName, userIds.map(userConfigKey), options);
    return new Map(items.map((item) => [String(item.id).slice('user:'.length), item]));
  }

  async putUser(userId: string, settings: UserSettings): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...userConfigKey(userId), ...settings } }));
  }

  async deleteUser(userId: string): Promise<boolean> {
    const result = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: userConfigKey(userId), ReturnValues: 'ALL_OLD' }),
    );
    return result.Attributes !== undefined;
  }

  private async get(key: Record<string, string>, consistent = false): Promise<Record<string, unknown> | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: consistent }));
    return result.Item;
  }
}
