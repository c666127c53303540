/**
 * Every DynamoDB table, declared once. The CDK stack and the local stack both build their tables from
 * these declarations, and the stores name their keys through them, so the three cannot drift apart.
 */

export interface TableDeclaration {
  /** The construct id on AWS, and the name (after a prefix) in the local stack. */
  readonly name: string;
  /** The environment variable through which functions learn the table's physical name. */
  readonly envVar: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Epoch seconds after which DynamoDB TTL deletes the item. */
  readonly timeToLiveAttribute: string;
  readonly globalIndexes?: readonly IndexDeclaration[];
}

export interface IndexDeclaration {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

/** Key attributes are strings throughout: ids, ULIDs and composite keys. */
export const keyAttributeType = 'S';

/** The key of an item in table T; key builders use it so that a renamed key fails to compile. */
export type KeyOf<T extends TableDeclaration> = Record<T['partitionKey'] | NonNullable<T['sortKey']>, string>;

/** Open WebSocket connections, by user: who to push to. */
export const connectionsTable = {
  name: 'Connections',
  envVar: 'CONNECTIONS_TABLE',
  partitionKey: 'userId',
  sortKey: 'connectionId',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const connectionKey = (userId: string, connectionId: string) =>
  ({ userId, connectionId }) satisfies KeyOf<typeof connectionsTable>;

export const tables: readonly TableDeclaration[] = [connectionsTable];
