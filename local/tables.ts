/** Creates the service's tables in DynamoDB Local from the same declarations the CDK stack uses. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { keyAttributeType, type TableDeclaration } from '../lib/tables';

export function localTableName(prefix: string, table: TableDeclaration): string {
  return `${prefix}${table.name}`;
}

/**
 * Creates each table that does not exist yet; existing tables (a `--data-dir` restart) are kept as they
 * are, and given any index declared since they were made.
 */
export async function ensureTables(client: DynamoDBClient, prefix: string, tables: readonly TableDeclaration[]): Promise<void> {
  for (const table of tables) {
    const TableName = localTableName(prefix, table);
    try {
      await client.send(new CreateTableCommand(createTableInput(TableName, table)));
    } catch (error) {
      if (error instanceof ResourceInUseException) {
        await addMissingIndexes(client, TableName, table);
        continue;
      }
      throw error;
    }
    if (!table.timeToLiveAttribute) continue;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName,
        TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true },
      }),
    );
  }
}

async function addMissingIndexes(client: DynamoDBClient, TableName: string, table: TableDeclaration): Promise<void> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const wanted = createTableInput(TableName, table);
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName,
        AttributeDefinitions: wanted.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
  }
}

function createTableInput(TableName: string, table: TableDeclaration) {
  const keyAttributes = new Set<string>();
  const keySchema = (partitionKey: string, sortKey?: string): KeySchemaElement[] => {
    keyAttributes.add(partitionKey);
    if (sortKey) keyAttributes.add(sortKey);
    return [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const KeySchema = keySchema(table.partitionKey, table.sortKey);
  const GlobalSecondaryIndexes = table.globalIndexes?.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: 'ALL' as const },
  }));
  const AttributeDefinitions: AttributeDefinition[] = [...keyAttributes].map((AttributeName) => ({
    AttributeName,
    AttributeType: keyAttributeType,
  }));
  return {
    TableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    KeySchema,
    AttributeDefinitions,
    ...(GlobalSecondaryIndexes?.length ? { GlobalSecondaryIndexes } : {}),
  };
}
