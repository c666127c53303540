/**
 * Every Lambda function of the service: its handler module, the WebSocket route it serves, and exactly
 * what it may touch. The CDK stack derives functions, routes, environment variables and IAM grants
 * from this list, and the local stack derives its routing from it, so the two run the same topology.
 */
export {
  connectionsEndpointEnvVar,
  fanOutDeadLettersArnEnvVar,
  fanOutQueueNameEnvVar,
  fanOutQueueUrlEnvVar,
  functionNameEnvVar,
  offlineEventBusEnvVar,
  tracingEnvVar,
} from '../lib/lambda/env';
import { adminRoutes } from '../lib/admin/admin-api';
import {
  configTable,
  connectionsTable,
  groupMembersTable,
  groupsTable,
  historyTable,
  offlineMessagesTable,
  recentConversationsTable,
  roomMembersTable,
  sendRatesTable,
  sendReceiptsTable,
  type TableDeclaration,
} from '../lib/tables';

export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem'
  | 'Scan';

export interface TableAccess {
  readonly table: TableDeclaration;
  readonly actions: readonly TableAction[];
  /** Indexes it queries, granted by name (not `index/*`). */
  readonly indexes?: readonly string[];
  /** The actions apply to the indexes only, not to the table itself. */
  readonly indexesOnly?: boolean;
}

export type ConnectionMethod = 'POST' | 'GET' | 'DELETE';
/** Pushing stored messages: a connection that misses one is closed, so that it drains again in order. */
const pushes: readonly ConnectionMethod[] = ['POST', 'DELETE'];

export interface FunctionDeclaration {
  /** The handler module, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** The WebSocket route it serves, if it serves one. */
  readonly route?: string;
  /** Whether what it returns is sent back on the connection (an API Gateway route response). */
  readonly replies?: boolean;
  /** The admin API route it serves; path `$default` catches every other request. */
  readonly http?: { readonly method: string; readonly path: string };
  readonly tables?: readonly TableAccess[];
  /** Reads the token-signing secret. */
  readonly tokenSecret?: boolean;
  /**
   * What it does through API Gateway's `@connections` API: POST (push), GET (is it open yet?), DELETE
   * (close a connection that missed a message). Each is granted on its own.
   */
  readonly connections?: readonly ConnectionMethod[];
  /** Sends fan-out jobs to the fan-out queue, consumes them, or sends its dead letters back to it. */
  readonly fanOutJobs?: 'send' | 'consume' | 'redrive';
  /** Catalog functions it invokes asynchronously, each named in `<NAME>_FUNCTION_NAME`. */
  readonly invokes?: readonly string[];
  /** Reads the service's CloudWatch metrics (`GET /v1/stats` on AWS). */
  readonly readsMetrics?: boolean;
  /** Puts `OfflineMessageStored` events on the stack's event bus (SPEC §12): it stores messages. */
  readonly offlineEvents?: boolean;
  /** Traced with Powertools Tracer (X-Ray) when the stack is deployed with tracing on. */
  readonly traced?: boolean;
  /** 29 s for routes, API Gateway's integration timeout, unless set. */
  readonly timeoutSeconds?: number;
  /**
   * Lambda concurrency kept for this function alone (and the most it may use), so that a flood of any
   * route cannot starve it; on AWS only, and off for an account that cannot reserve (see cdk/protection.ts).
   */
  readonly reservedConcurrency?: number;
  /** Requests a second to its route across the stage, and the burst above that: a flood of one route leaves the others room. */
  readonly throttle?: RouteThrottle;
}

export interface RouteThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Route throttles, as shares of the stage's 500 requests a second: the routes a client fires most
 * (send, ack) get most, a connect storm or junk frames ($default) the least.
 */
const busyRoute: RouteThrottle = { rateLimit: 300, burstLimit: 600 };
const quietRoute: RouteThrottle = { rateLimit: 100, burstLimit: 200 };

/** Reading settings: every function whose behaviour the settings change. */
const readsSettings: TableAccess = { table: configTable, actions: ['GetItem'] };
/** Fan-out also reads many users' own settings at once. */
const readsManySettings: TableAccess = { table: configTable, actions: ['GetItem', 'BatchGetItem'] };
/**
 * Pushing: finding who is online, forgetting connections API Gateway no longer knows, and reopening
 * acknowledgements a message stored late would fall under (a read, then a conditional update).
 */
const findsConnections: TableAccess = { table: connectionsTable, actions: ['BatchGetItem', 'GetItem', 'UpdateItem'] };
const readsMembers: TableAccess = { table: groupMembersTable, actions: ['Query'] };
const changesMembers: TableAccess = { table: groupMembersTable, actions: ['Query', 'BatchWriteItem'] };

export const functionCatalog = {
  authorizer: {
    entry: 'functions/authorizer.ts',
    tokenSecret: true,
    timeoutSeconds: 10,
    // Every upgrade runs it: kept for connects whatever else floods.
    reservedConcurrency: 10,
  },
  connect: {
    entry: 'functions/connect.ts',
    route: '$connect',
    tables: [{ table: connectionsTable, actions: ['UpdateItem'] }, readsSettings],
    invokes: ['drain'],
    // Past maxConnectionsPerUser: the oldest connection is told `closing` (POST), then closed (DELETE).
    connections: ['POST', 'DELETE'],
    reservedConcurrency: 10,
    throttle: quietRoute,
  },
  disconnect: {
    entry: 'functions/disconnect.ts',
    route: '$disconnect',
    tables: [
      { table: connectionsTable, actions: ['UpdateItem'] },
      { table: roomMembersTable, actions: ['DeleteItem'] },
      // The closing connection's rooms: its item notes only that it joined some.
      { table: roomMembersTable, actions: ['Query'], indexes: ['byConnection'], indexesOnly: true },
    ],
    reservedConcurrency: 5,
  },
  default: {
    entry: 'functions/default.ts',
    route: '$default',
    replies: true,
    // Unknown actions: junk frames, the first thing a flood of garbage reaches.
    throttle: { rateLimit: 20, burstLimit: 40 },
  },
  ping: {
    entry: 'functions/ping.ts',
    route: 'ping',
    replies: true,
    throttle: quietRoute,
  },
  send: {
    entry: 'functions/send.ts',
    route: 'send',
    replies: true,
    tables: [
      { table: offlineMessagesTable, actions: ['PutItem', 'DeleteItem', 'BatchWriteItem'] },
      { table: sendReceiptsTable, actions: ['PutItem', 'UpdateItem'] },
      // Leasing send-rate tokens: conditional updates, never a read.
      { table: sendRatesTable, actions: ['UpdateItem'] },
      findsConnections,
      readsManySettings,
      { table: historyTable, actions: ['PutItem', 'DeleteItem'] },
      { table: recentConversationsTable, actions: ['PutItem'] },
      { table: groupMembersTable, actions: ['GetItem', 'Query'] },
      { table: groupsTable, actions: ['UpdateItem'] },
      { table: roomMembersTable, actions: ['GetItem', 'Query', 'DeleteItem'] },
    ],
    connections: pushes,
    fanOutJobs: 'send',
    offlineEvents: true,
    traced: true,
    throttle: busyRoute,
  },
  ack: {
    entry: 'functions/ack.ts',
    route: 'ack',
    replies: true,
    tables: [
      { table: offlineMessagesTable, actions: ['DeleteItem'] },
      // An ack by bound raises the user's bound on the connections item.
      { table: connectionsTable, actions: ['UpdateItem'] },
    ],
    throttle: busyRoute,
  },
  sync: {
    entry: 'functions/sync.ts',
    route: 'sync',
    replies: true,
    tables: [
      { table: offlineMessagesTable, actions: ['Query', 'BatchWriteItem'] },
      { table: connectionsTable, actions: ['BatchGetItem'] },
      readsSettings,
    ],
    connections: ['POST'],
    throttle: quietRoute,
  },
  history: {
    entry: 'functions/history.ts',
    route: 'history',
    replies: true,
    tables: [
      { table: historyTable, actions: ['Query'] },
      { table: groupMembersTable, actions: ['GetItem'] },
      readsSettings,
    ],
    throttle: quietRoute,
  },
  recent: {
    entry: 'functions/recent.ts',
    route: 'recent',
    replies: true,
    tables: [
      { table: recentConversationsTable, actions: ['Query', 'BatchWriteItem'] },
      { table: groupMembersTable, actions: ['Query'], indexes: ['byMember'], indexesOnly: true },
      { table: groupsTable, actions: ['BatchGetItem'] },
      readsSettings,
    ],
    throttle: quietRoute,
  },
  joinRoom: {
    entry: 'functions/join-room.ts',
    route: 'joinRoom',
    replies: true,
    tables: [
      { table: connectionsTable, actions: ['UpdateItem'] },
      { table: roomMembersTable, actions: ['PutItem'] },
    ],
    throttle: quietRoute,
  },
  leaveRoom: {
    entry: 'functions/leave-room.ts',
    route: 'leaveRoom',
    replies: true,
    tables: [{ table: roomMembersTable, actions: ['DeleteItem'] }],
    throttle: quietRoute,
  },
  getOfflineMessageDuration: {
    entry: 'functions/get-offline-message-duration.ts',
    route: 'getOfflineMessageDuration',
    replies: true,
    tables: [readsSettings],
    throttle: quietRoute,
  },
  setOfflineMessageDuration: {
    entry: 'functions/set-offline-message-duration.ts',
    route: 'setOfflineMessageDuration',
    replies: true,
    tables: [{ table: configTable, actions: ['GetItem', 'PutItem'] }],
    throttle: quietRoute,
  },
  drain: {
    entry: 'functions/drain.ts',
    tables: [
      { table: offlineMessagesTable, actions: ['Query', 'BatchWriteItem'] },
      // Claiming, renewing and finishing the drain, and forgetting a connection it cut off, are updates;
      // whether a connection it closes was replaced is a GetItem.
      { table: connectionsTable, actions: ['BatchGetItem', 'GetItem', 'UpdateItem'] },
      readsSettings,
    ],
    connections: [...pushes, 'GET'],
    timeoutSeconds: 60,
    traced: true,
    // Without its drain a connection never gets its queue: kept like the connect that starts it.
    reservedConcurrency: 10,
  },
  fanOut: {
    entry: 'functions/fan-out.ts',
    tables: [{ table: offlineMessagesTable, actions: ['Query', 'BatchWriteItem'] }, findsConnections, readsManySettings],
    connections: pushes,
    fanOutJobs: 'consume',
    offlineEvents: true,
    timeoutSeconds: 60,
  },
  adminGetConfig: {
    entry: 'functions/admin/get-config.ts',
    http: adminRoutes.getConfig,
    tables: [readsSettings],
  },
  adminPatchConfig: {
    entry: 'functions/admin/patch-config.ts',
    http: adminRoutes.patchConfig,
    tables: [{ table: configTable, actions: ['GetItem', 'UpdateItem'] }],
  },
  adminGetUserConfig: {
    entry: 'functions/admin/get-user-config.ts',
    http: adminRoutes.getUserConfig,
    tables: [readsSettings],
  },
  adminPutUserConfig: {
    entry: 'functions/admin/put-user-config.ts',
    http: adminRoutes.putUserConfig,
    tables: [{ table: configTable, actions: ['GetItem', 'PutItem'] }],
  },
  adminDeleteUserConfig: {
    entry: 'functions/admin/delete-user-config.ts',
    http: adminRoutes.deleteUserConfig,
    tables: [{ table: configTable, actions: ['GetItem', 'DeleteItem'] }],
  },
  adminGetUserOffline: {
    entry: 'functions/admin/get-user-offline.ts',
    http: adminRoutes.getUserOffline,
    tables: [
      { table: offlineMessagesTable, actions: ['Query'] },
      // The user's acknowledgement bound: what is past it is what the next drain would deliver.
      { table: connectionsTable, actions: ['BatchGetItem'] },
      readsSettings,
    ],
  },
  adminCreateToken: {
    entry: 'functions/admin/create-token.ts',
    http: adminRoutes.createToken,
    tokenSecret: true,
  },
  adminPutGroup: {
    entry: 'functions/admin/put-group.ts',
    http: adminRoutes.putGroup,
    tables: [changesMembers, { table: groupsTable, actions: ['UpdateItem'] }],
  },
  adminGetGroup: {
    entry: 'functions/admin/get-group.ts',
    http: adminRoutes.getGroup,
    tables: [readsMembers, { table: groupsTable, actions: ['GetItem'] }],
  },
  adminDeleteGroup: {
    entry: 'functions/admin/delete-group.ts',
    http: adminRoutes.deleteGroup,
    tables: [changesMembers, { table: groupsTable, actions: ['DeleteItem'] }],
  },
  adminChangeGroupMembers: {
    entry: 'functions/admin/change-group-members.ts',
    http: adminRoutes.changeGroupMembers,
    tables: [changesMembers, { table: groupsTable, actions: ['GetItem', 'UpdateItem'] }],
  },
  adminDeleteGroupMessages: {
    entry: 'functions/admin/delete-group-messages.ts',
    http: adminRoutes.deleteGroupMessages,
    tables: [
      readsMembers,
      { table: groupsTable, actions: ['GetItem'] },
      { table: historyTable, actions: ['Query', 'BatchWriteItem'] },
      { table: offlineMessagesTable, actions: ['Query', 'BatchWriteItem'] },
    ],
    fanOutJobs: 'send',
    timeoutSeconds: 29,
  },
  adminSendSystemMessage: {
    entry: 'functions/admin/send-system-message.ts',
    http: adminRoutes.sendSystemMessage,
    tables: [
      { table: offlineMessagesTable, actions: ['BatchWriteItem'] },
      { table: sendReceiptsTable, actions: ['PutItem', 'UpdateItem'] },
      findsConnections,
      readsManySettings,
    ],
    connections: pushes,
    fanOutJobs: 'send',
    offlineEvents: true,
  },
  adminSendMessage: {
    entry: 'functions/admin/send-message.ts',
    http: adminRoutes.sendMessage,
    // The client's `send`, but never to a chatroom: no room table.
    tables: [
      { table: offlineMessagesTable, actions: ['PutItem', 'BatchWriteItem'] },
      { table: sendReceiptsTable, actions: ['PutItem', 'UpdateItem'] },
      findsConnections,
      readsManySettings,
      { table: historyTable, actions: ['PutItem'] },
      { table: recentConversationsTable, actions: ['PutItem'] },
      { table: groupMembersTable, actions: ['GetItem', 'Query'] },
      { table: groupsTable, actions: ['UpdateItem'] },
    ],
    connections: pushes,
    fanOutJobs: 'send',
    offlineEvents: true,
  },
  adminListGroups: {
    entry: 'functions/admin/list-groups.ts',
    http: adminRoutes.listGroups,
    // A paged Scan, admin-only: see DynamoGroupStore.list for why not an index.
    tables: [{ table: groupsTable, actions: ['Scan'] }],
  },
  adminGetStats: {
    entry: 'functions/admin/get-stats.ts',
    http: adminRoutes.getStats,
    readsMetrics: true,
  },
  adminRedriveFanOut: {
    entry: 'functions/admin/redrive-fan-out.ts',
    http: adminRoutes.redriveFanOut,
    fanOutJobs: 'redrive',
  },
  adminNotFound: {
    entry: 'functions/admin/not-found.ts',
    http: { method: 'ANY', path: '$default' },
  },
} as const satisfies Record<string, FunctionDeclaration>;

export type FunctionName = keyof typeof functionCatalog;

/** The functions that serve admin API routes. */
export function httpFunctions(): Array<[FunctionName, FunctionDeclaration & { http: { method: string; path: string } }]> {
  return (Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>).filter(
    (entry): entry is [FunctionName, FunctionDeclaration & { http: { method: string; path: string } }] =>
      entry[1].http !== undefined,
  );
}

/** The functions that serve WebSocket routes; the authorizer guards `$connect` instead. */
export function routeFunctions(): Array<[FunctionName, FunctionDeclaration & { route: string }]> {
  return (Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>).filter(
    (entry): entry is [FunctionName, FunctionDeclaration & { route: string }] => entry[1].route !== undefined,
  );
}

/** API Gateway's route selection expression; the emulator implements the same. */
export const routeSelectionExpression = '$request.body.action';

/** The query-string parameter the authorizer reads, as API Gateway's identity source names it. */
export const tokenIdentitySource = 'route.request.querystring.token';
