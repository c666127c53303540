/**
 * Everything a stack has stored, to show that a request changed nothing: every item of every table,
 * read consistently. Connections are left out by default: opening and closing them is not a change.
 */
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { connectionsTable, tables, type TableDeclaration } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { localDocumentClient } from './local-stack';

export type Snapshot = Record<string, string[]>;

const db = localDocumentClient();

export async function snapshot(stack: LocalStack, except: readonly TableDeclaration[] = [connectionsTable]): Promise<Snapshot> {
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
