/**
 * Builds the adapters a function needs from its environment. Handlers call these at module load, so
 * a missing table name fails the cold start rather than the first request.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ConnectionStore } from '../connections';
import { createDocumentClient } from '../dynamodb/client';
import { DynamoConnectionStore } from '../dynamodb/connection-store';
import { connectionsTable } from '../tables';
import { requiredEnv } from './env';

let documentClient: DynamoDBDocumentClient | undefined;

function sharedDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= createDocumentClient();
  return documentClient;
}

export function connectionStore(): ConnectionStore {
  return new DynamoConnectionStore(sharedDocumentClient(), requiredEnv(connectionsTable.envVar));
}
