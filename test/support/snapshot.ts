/**
 * What a stack has stored: every item of every table, to show that a request changed nothing, or the
 * items of one partition. Read consistently, as a test must see every write it waited for.
 */
import { paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { connectionsTable, sendRatesTable, tables, type TableDeclaration } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { localDocumentClient } from './local-stack';

export type Snapshot = Record<string, string[]>;

const db = localDocumentClient();

/**
 * Every table's items. Left out by default: connections, as opening and closing them is no change, and
 * send-rate buckets, as every send is counted against its sender's rate, a refused one too.
 */
export async function snapshot(stack: LocalStack, except: readonly TableDeclaration[] = [connectionsTable, sendRatesTable]): Promise<Snapshot> {
  const result: Snapshot = {};
  for (const table of tables.filter((t) => !except.includes(t))) {
    const items: string[] = [];
    for await (const page of paginateScan({ client: db }, { TableName: stack.tableName(table), ConsistentRead: true })) {
      for (const item of page.Items ?? []) items.push(JSON.stringify(item, (_key, value: unknown) => (value instanceof Set ? [...value].sort() : value)));
    }
    result[table.name] = items.sort();
  }
  return result;
}

/** The items of one partition of a table (a user's queue, a conversation's history), read consistently. */
export async function itemsOf(stack: LocalStack, table: TableDeclaration, partition: string): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  const pages = paginateQuery(
    { client: db },
    {
      TableName: stack.tableName(table),
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': table.partitionKey },
      ExpressionAttributeValues: { ':v': partition },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}
