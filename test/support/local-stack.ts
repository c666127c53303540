import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import type { TableDeclaration } from '../../lib/tables';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';
import { awsTiming } from '../../local/aws-timing';
import { ensureTables, localTableName } from '../../local/tables';

/** Tests only ever talk to DynamoDB on this machine. */
export function localDynamoDbEndpoint(): string {
  const endpoint = inject('dynamodbEndpoint');
  const { hostname } = new URL(endpoint);
  if (!['127.0.0.1', 'localhost', '::1'].includes(hostname)) {
    throw new Error(`refusing to run tests against a non-local DynamoDB: ${endpoint}`);
  }
  return endpoint;
}

export function uniqueTablePrefix(): string {
  return `t${randomBytes(4).toString('hex')}-`;
}

/**
 * The local stack on free ports, with tables of its own in the shared DynamoDB Local. API Gateway's
 * opening delay is always on (posts get 410 for up to 200 ms after `$connect`), as on AWS; with
 * PIGEONHOLE_TEST_AWS_TIMING=1, every such stack keeps the whole of AWS's timing (awsTiming: stale
 * reads, late and double drain events too), so that `PIGEONHOLE_TEST_AWS_TIMING=1 npx vitest run
 * test/e2e` runs the e2e suite under it.
 */
export function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStack({
    wsPort: 0,
    adminPort: 0,
    dynamodbEndpoint: localDynamoDbEndpoint(),
    tablePrefix: uniqueTablePrefix(),
    openingDelay: { minMs: 0, maxMs: 200 },
    ...(process.env.PIGEONHOLE_TEST_AWS_TIMING === '1' && awsTiming()),
    ...options,
  });
}

export function localDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: localDynamoDbEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export function localDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(localDynamoDbClient());
}

/** Tables of the test's own in the shared DynamoDB Local; resolves to each one's name. */
export async function createTestTables(declarations: readonly TableDeclaration[]): Promise<(table: TableDeclaration) => string> {
  const prefix = uniqueTablePrefix();
  await ensureTables(localDynamoDbClient(), prefix, declarations);
  return (table) => localTableName(prefix, table);
}

/**
 * Waits out AWS's "a moment later" (under AWS timing; nothing otherwise): the opening delay of
 * connections opened just now, since what is pushed but not stored (a qos-0 message, a copy for the
 * sender's other devices) reaches only connections API Gateway already accepts posts on; and the
 * window in which an eventually consistent read may not see a write yet (an app setting changed just
 * now is in force everywhere within 60 s, SPEC §6, and read without a cache in the tests).
 */
export function untilSettled(stack: LocalStack): Promise<void> {
  const staleMs = stack.staleReads && stack.staleReads.rate > 0 ? stack.staleReads.windowMs : 0;
  return new Promise((resolve) => setTimeout(resolve, Math.max(stack.gateway.openingDelay?.maxMs ?? 0, staleMs)));
}
