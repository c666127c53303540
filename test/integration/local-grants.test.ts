/**
 * The catalog's grants hold locally (local/grants.ts): a call a function's catalog entry does not grant
 * fails with AccessDeniedException, as IAM would refuse it on AWS; a granted one goes through.
 */
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionDeclaration } from '../../functions/catalog';
import { registerClientPlugin, withClientPlugins } from '../../lib/aws/client-plugins';
import { configTable, groupMembersTable, type TableDeclaration } from '../../lib/tables';
import { currentFunction, LocalGrants } from '../../local/grants';
import { createTestTables, localDynamoDbClient } from '../support/local-stack';

const catalog: Record<string, FunctionDeclaration> = {
  reader: { entry: 'x.ts', tables: [{ table: configTable, actions: ['GetItem'] }] },
  indexOnly: { entry: 'x.ts', tables: [{ table: groupMembersTable, actions: ['Query'], indexes: ['byMember'], indexesOnly: true }] },
};

let db: DynamoDBDocumentClient;
let names: (table: TableDeclaration) => string;
let unregister: () => void;

beforeAll(async () => {
  names = await createTestTables([configTable, groupMembersTable]);
  const grants = new LocalGrants(catalog, new Map([configTable, groupMembersTable].map((table) => [names(table), table.name])));
  unregister = registerClientPlugin(grants.plugin);
  db = DynamoDBDocumentClient.from(withClientPlugins(localDynamoDbClient()));
});
afterAll(() => unregister?.());

const as = <T>(fn: string, call: () => Promise<T>) => currentFunction.run(fn, call);

describe('local grants', () => {
  it('let a function do what its entry grants', async () => {
    expect(await as('reader', () => db.send(new GetCommand({ TableName: names(configTable), Key: { id: 'app' } })))).toMatchObject({ $metadata: expect.anything() });
    const byMember = { TableName: names(groupMembersTable), IndexName: 'byMember', KeyConditionExpression: 'memberId = :m', ExpressionAttributeValues: { ':m': 'ann' } };
    expect((await as('indexOnly', () => db.send(new QueryCommand(byMember)))).Items).toEqual([]);
  });

  it('refuse, with AccessDeniedException, an action, a table or a table-not-index it does not grant', async () => {
    const denied = { name: 'AccessDeniedException', message: expect.stringContaining('functions/catalog.ts does not grant it') };
    await expect(as('reader', () => db.send(new PutCommand({ TableName: names(configTable), Item: { id: 'x' } })))).rejects.toMatchObject(denied);
    await expect(as('reader', () => db.send(new GetCommand({ TableName: names(groupMembersTable), Key: { groupId: 'g', memberId: 'm' } })))).rejects.toMatchObject(denied);
    const onTable = { TableName: names(groupMembersTable), KeyConditionExpression: 'groupId = :g', ExpressionAttributeValues: { ':g': 'g' } };
    await expect(as('indexOnly', () => db.send(new QueryCommand(onTable)))).rejects.toMatchObject(denied);
  });
});
