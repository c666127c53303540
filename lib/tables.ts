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
  /** Epoch seconds after which DynamoDB TTL deletes the item; tables of lasting data have none. */
  readonly timeToLiveAttribute?: string;
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

/**
 * Who is online, and since when they are away: one item per user, holding each open connection as
 * an attribute named `connection:<id>`, and `lastSeenAt`. One item per user lets a single
 * BatchGetItem find the connections of 100 users, which is what a group fan-out or a send needs.
 * The item lives a year past the user's last activity, longer than any session expiry.
 */
export const connectionsTable = {
  name: 'Connections',
  envVar: 'CONNECTIONS_TABLE',
  partitionKey: 'userId',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const connectionKey = (userId: string) => ({ userId }) satisfies KeyOf<typeof connectionsTable>;

/** Each user's offline queue, oldest first: messages stored until acknowledged or expired. */
export const offlineMessagesTable = {
  name: 'OfflineMessages',
  envVar: 'OFFLINE_MESSAGES_TABLE',
  partitionKey: 'userId',
  sortKey: 'id',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const offlineMessageKey = (userId: string, id: string) =>
  ({ userId, id }) satisfies KeyOf<typeof offlineMessagesTable>;

/** One receipt per accepted send, kept 24 h: what makes a resend with the same clientMsgId a duplicate. */
export const sendReceiptsTable = {
  name: 'SendReceipts',
  envVar: 'SEND_RECEIPTS_TABLE',
  partitionKey: 'senderId',
  sortKey: 'clientMsgId',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const sendReceiptKey = (senderId: string, clientMsgId: string) =>
  ({ senderId, clientMsgId }) satisfies KeyOf<typeof sendReceiptsTable>;

/**
 * Each user's send-rate bucket (SPEC §6 `sendRatePerSecond`, `sendBurst`): one small item, so that a
 * conditional update of it costs one write unit; it expires once the bucket would be full again.
 */
export const sendRatesTable = {
  name: 'SendRates',
  envVar: 'SEND_RATES_TABLE',
  partitionKey: 'userId',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const sendRateKey = (userId: string) => ({ userId }) satisfies KeyOf<typeof sendRatesTable>;

/**
 * Settings, as plain items an admin can also edit in the DynamoDB console: `app` for the app's
 * settings, `user:<id>` for a user's own.
 */
export const configTable = {
  name: 'Config',
  envVar: 'CONFIG_TABLE',
  partitionKey: 'id',
} as const satisfies TableDeclaration;

export const appConfigKey = () => ({ id: 'app' }) satisfies KeyOf<typeof configTable>;
export const userConfigKey = (userId: string) => ({ id: `user:${userId}` }) satisfies KeyOf<typeof configTable>;

/** Group membership: one item per member; the `byMember` index lists a user's groups. */
export const groupMembersTable = {
  name: 'GroupMembers',
  envVar: 'GROUP_MEMBERS_TABLE',
  partitionKey: 'groupId',
  sortKey: 'memberId',
  globalIndexes: [{ indexName: 'byMember', partitionKey: 'memberId', sortKey: 'groupId' }],
} as const satisfies TableDeclaration;

export const groupMemberKey = (groupId: string, memberId: string) =>
  ({ groupId, memberId }) satisfies KeyOf<typeof groupMembersTable>;

/** One item per group: when it was made, how many members it has, and its last message. */
export const groupsTable = {
  name: 'Groups',
  envVar: 'GROUPS_TABLE',
  partitionKey: 'groupId',
} as const satisfies TableDeclaration;

export const groupKey = (groupId: string) => ({ groupId }) satisfies KeyOf<typeof groupsTable>;

/**
 * Roaming history: every message of a conversation, newest readable first, kept for `historyDays`
 * (private) or `groupHistoryDays` (groups) whether or not it was delivered or acknowledged.
 */
export const historyTable = {
  name: 'History',
  envVar: 'HISTORY_TABLE',
  partitionKey: 'conversationId',
  sortKey: 'id',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const historyKey = (conversationId: string, id: string) =>
  ({ conversationId, id }) satisfies KeyOf<typeof historyTable>;

/** Each user's private conversations with their last message; groups' come from `Groups`. */
export const recentConversationsTable = {
  name: 'RecentConversations',
  envVar: 'RECENT_CONVERSATIONS_TABLE',
  partitionKey: 'userId',
  sortKey: 'conversationId',
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDeclaration;

export const recentConversationKey = (userId: string, conversationId: string) =>
  ({ userId, conversationId }) satisfies KeyOf<typeof recentConversationsTable>;

/**
 * Chatroom membership, per connection: it ends when the connection leaves the room or closes. The
 * `byConnection` index finds a closing connection's rooms, which the user's connection item does not
 * hold (a connection may join any number of rooms; that item must stay small).
 */
export const roomMembersTable = {
  name: 'RoomMembers',
  envVar: 'ROOM_MEMBERS_TABLE',
  partitionKey: 'roomId',
  sortKey: 'connectionId',
  timeToLiveAttribute: 'expiresAt',
  globalIndexes: [{ indexName: 'byConnection', partitionKey: 'connectionId', sortKey: 'roomId' }],
} as const satisfies TableDeclaration;

export const roomMemberKey = (roomId: string, connectionId: string) =>
  ({ roomId, connectionId }) satisfies KeyOf<typeof roomMembersTable>;

export const tables: readonly TableDeclaration[] = [
  connectionsTable,
  offlineMessagesTable,
  sendReceiptsTable,
  sendRatesTable,
  configTable,
  groupMembersTable,
  groupsTable,
  historyTable,
  recentConversationsTable,
  roomMembersTable,
];
