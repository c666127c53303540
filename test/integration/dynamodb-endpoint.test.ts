/**
 * `DYNAMODB_ENDPOINT` points the table stores' document client (lib/dynamodb/client.ts) at another
 * DynamoDB, as `npm start` and the functions take it; unset, the SDK's regional endpoint is used, as on
 * Lambda. Each request's host is read off the request just before it would be signed and sent.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lib/dynamodb/client';
import { configTable } from '../../lib/tables';
import { createTestTables, localDocumentClient, localDynamoDbEndpoint } from '../support/local-stack';

const variables = ['DYNAMODB_ENDPOINT', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
let saved: Partial<Record<(typeof variables)[number], string>>;

beforeEach(() => {
  saved = Object.fromEntries(variables.map((name) => [name, process.env[name]]));
  process.env.AWS_REGION = 'eu-west-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
});
afterEach(() => {
  for (const name of variables) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

class Stopped extends Error {}

/** The host a request of this client goes to; stops it there, so nothing leaves the machine. */
async function hostOf(db: DynamoDBDocumentClient): Promise<string> {
  let host = '';
  db.middlewareStack.add(
    (_next) => async (args) => {
      const request = args.request as { hostname: string; port?: number; protocol: string };
      host = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
      throw new Stopped();
    },
    { step: 'build', name: 'stopBeforeSending' },
  );
  await expect(db.send(new GetCommand({ TableName: 'any', Key: { id: 'app' } }))).rejects.toBeInstanceOf(Stopped);
  return host;
}

describe('the document client', () => {
  it('goes to DYNAMODB_ENDPOINT when it is set, and reads and writes there', async () => {
    const tableName = (await createTestTables([configTable]))(configTable);
    process.env.DYNAMODB_ENDPOINT = localDynamoDbEndpoint();
    expect(await hostOf(createDocumentClient())).toBe(new URL(localDynamoDbEndpoint()).origin);

    const marker = `written-${Date.now()}`;
    await createDocumentClient().send(new PutCommand({ TableName: tableName, Item: { id: 'app', marker } }));
    // Another client of DynamoDB Local sees the write: it went there and nowhere else.
    const read = await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { id: 'app' }, ConsistentRead: true }));
    expect(read.Item).toEqual({ id: 'app', marker });
  });

  it('goes to the SDK’s regional endpoint when DYNAMODB_ENDPOINT is unset', async () => {
    delete process.env.DYNAMODB_ENDPOINT;
    expect(await hostOf(createDocumentClient())).toBe('https://dynamodb.eu-west-1.amazonaws.com');
  });
});
