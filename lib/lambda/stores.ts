/**
 * Builds the adapters a function needs from its environment. Handlers call these at module load, so
 * a missing variable fails the cold start rather than the first request.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { withClientPlugins } from '../aws/client-plugins';
import { ApiGatewayConnectionPoster } from '../aws/connection-poster';
import { EventBridgeOfflineEvents } from '../aws/event-bridge-bus';
import { SqsFanOutDeadLetters, SqsFanOutQueue } from '../aws/fan-out-queue';
import { DynamoGroupStore } from '../dynamodb/group-store';
import { DynamoHistoryStore } from '../dynamodb/history-store';
import { DynamoRecentConversationStore } from '../dynamodb/recent-conversation-store';
import { DynamoRoomStore } from '../dynamodb/room-store';
import type { FanOutDeadLetters, FanOutQueue } from '../sending/fan-out';
import { emitDeadlineMs, type OfflineEventBus } from '../events/offline-events';
import type { GroupLister, GroupStore } from '../groups/groups';
import type { HistoryStore } from '../conversations/history';
import type { RecentConversationStore } from '../conversations/recent-conversations';
import type { RoomStore } from '../conversations/chatrooms';
import { LambdaDrainStarter } from '../aws/drain-starter';
import type { DrainStarter } from '../connecting/open-connection';
import type { ConnectionStore } from '../connecting/connections';
import type { DrainStates, PushDeps } from '../delivery/ordering';
import { createDocumentClient } from '../dynamodb/client';
import { DynamoConnectionPushes, DynamoConnectionStore } from '../dynamodb/connection-store';
import { DynamoOfflineQueue } from '../dynamodb/offline-queue-store';
import { DynamoSendReceipts } from '../dynamodb/send-receipt-store';
import { DynamoSendRateStore } from '../dynamodb/send-rate-store';
import { SendRateLimiter } from '../sending/send-rate';
import type { OfflineQueue } from '../delivery/offline-queue';
import type { SendReceipts } from '../sending/send-receipts';
import { clock } from '../clock';
import { DynamoSettingsStore } from '../dynamodb/settings-store';
import { maxSettingsAgeMs, SettingsReader, type SettingsStore } from '../retention/settings-reader';
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
} from '../tables';
import { logger } from './logger';
import {
  connectionsEndpointEnvVar,
  fanOutDeadLettersArnEnvVar,
  fanOutQueueUrlEnvVar,
  functionNameEnvVar,
  offlineEventBusEnvVar,
  requiredEnv,
} from './env';
import type { ConnectionPoster } from '../delivery/poster';

let documentClient: DynamoDBDocumentClient | undefined;

function sharedDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient(process.env.DYNAMODB_ENDPOINT, withClientPlugins);
  return documentClient;
}

export function connectionStore(): ConnectionStore & DrainStates {
  return new DynamoConnectionStore(sharedDocumentClient(), requiredEnv(connectionsTable.envVar));
}

/** What a push needs of the connections, for a function that only pushes (send): the rest stays out of its bundle. */
export function connectionPushes(): PushDeps['connections'] {
  return new DynamoConnectionPushes(sharedDocumentClient(), requiredEnv(connectionsTable.envVar));
}

export function offlineQueue(): OfflineQueue {
  return new DynamoOfflineQueue(sharedDocumentClient(), requiredEnv(offlineMessagesTable.envVar));
}

export function sendReceipts(): SendReceipts {
  return new DynamoSendReceipts(sharedDocumentClient(), requiredEnv(sendReceiptsTable.envVar));
}

/** One per container: the tokens it has leased for each user live in it (see lib/sending/send-rate.ts). */
export function sendRateLimiter(): SendRateLimiter {
  return new SendRateLimiter(new DynamoSendRateStore(sharedDocumentClient(), requiredEnv(sendRatesTable.envVar)), clock);
}

export function settingsStore(): SettingsStore {
  return new DynamoSettingsStore(sharedDocumentClient(), requiredEnv(configTable.envVar));
}

let settings: SettingsReader | undefined;

/**
 * One settings cache per container, shared by everything in it. `SETTINGS_CACHE_SECONDS` may shorten
 * the cache (the local stack's tests use 0), never lengthen it past the minute SPEC §6 allows.
 */
export function settingsReader(): SettingsReader {
  const seconds = Number(process.env.SETTINGS_CACHE_SECONDS ?? maxSettingsAgeMs / 1000);
  settings ??= new SettingsReader(settingsStore(), clock, logger, Math.min(seconds * 1000, maxSettingsAgeMs));
  return settings;
}

export function groupStore(): GroupStore {
  return dynamoGroupStore();
}

/** Listing every group: the admin API's only; it reads the Groups table alone. */
export function groupLister(): GroupLister {
  return new DynamoGroupStore(sharedDocumentClient(), { groups: requiredEnv(groupsTable.envVar) });
}

/** Who is in which group, for a function that reads memberships alone (`history`). */
export function groupMembership(): Pick<GroupStore, 'isMember'> {
  return new DynamoGroupStore(sharedDocumentClient(), { members: requiredEnv(groupMembersTable.envVar) });
}

function dynamoGroupStore(): DynamoGroupStore {
  return new DynamoGroupStore(sharedDocumentClient(), {
    groups: requiredEnv(groupsTable.envVar),
    members: requiredEnv(groupMembersTable.envVar),
  });
}

/** The conversation history; whether messages go into it is the app's `historyEnabled` setting. */
export function historyStore(): HistoryStore {
  return new DynamoHistoryStore(sharedDocumentClient(), requiredEnv(historyTable.envVar));
}

export function recentConversationStore(): RecentConversationStore {
  return new DynamoRecentConversationStore(sharedDocumentClient(), requiredEnv(recentConversationsTable.envVar));
}

export function roomStore(): RoomStore {
  return new DynamoRoomStore(sharedDocumentClient(), requiredEnv(roomMembersTable.envVar));
}

/** `SQS_ENDPOINT` points at the local stack's queue service; unset on AWS. */
export function fanOutQueue(): FanOutQueue {
  return new SqsFanOutQueue(requiredEnv(fanOutQueueUrlEnvVar), process.env.SQS_ENDPOINT);
}

export function fanOutDeadLetters(): FanOutDeadLetters {
  return new SqsFanOutDeadLetters(requiredEnv(fanOutDeadLettersArnEnvVar), process.env.SQS_ENDPOINT);
}

export function connectionPoster(): ConnectionPoster {
  return new ApiGatewayConnectionPoster(requiredEnv(connectionsEndpointEnvVar));
}

/** `LAMBDA_ENDPOINT` points at the local stack's Lambda service; unset on AWS. */
export function drainStarter(): DrainStarter {
  return new LambdaDrainStarter(requiredEnv(functionNameEnvVar('drain')), process.env.LAMBDA_ENDPOINT);
}

/**
 * `EVENTBRIDGE_ENDPOINT` points at the local stack's event bus, and `OFFLINE_EVENTS_DEADLINE_MS` may
 * give its puts longer than AWS's second (a loaded test machine); both unset on AWS.
 */
export function offlineEventBus(): OfflineEventBus {
  const configured = Number(process.env.OFFLINE_EVENTS_DEADLINE_MS);
  return new EventBridgeOfflineEvents(
    requiredEnv(offlineEventBusEnvVar),
    Number.isFinite(configured) && configured > emitDeadlineMs ? configured : emitDeadlineMs,
    process.env.EVENTBRIDGE_ENDPOINT,
  );
}
