/**
 * Eventually consistent reads, which DynamoDB Local never gives: on AWS a GetItem, BatchGetItem or
 * Query without `ConsistentRead` may not yet reflect a write that succeeded a moment ago ("usually
 * within one second", the DynamoDB developer guide says). This SDK middleware remembers, for a short
 * window, the versions of each item that writes through it replaced, and answers a share of the
 * eventually consistent reads with the item as it was up to `windowMs` ago.
 *
 * What it models and what it leaves out:
 * - the earlier version comes from the write itself (`ReturnValues: ALL_OLD`, asked for when the
 *   caller asked for nothing, and hidden from it again), so it is always a version that existed;
 *   writes that ask for other return values, and BatchWriteItem, are not remembered, which only
 *   makes reads less stale, never wrong;
 * - GetItem and BatchGetItem may answer an older version, or nothing for an item created within the
 *   window; a Query may answer older versions of the items it finds, or leave out one created within
 *   the window, but never brings back an item deleted within it; reads with a projection or a filter
 *   are answered as they are;
 * - strongly consistent reads always see the latest write, as on AWS.
 */
import type { HandlerExecutionContext, MiddlewareStack, SerializeMiddleware } from '@smithy/types';
import type { ClientPlugin } from '../lib/aws/client-plugins';
import { tables } from '../lib/tables';

/** As the caller wrote or reads it: the document client's plain values (or AttributeValues from a bare client). */
type Item = Record<string, unknown>;

export interface StaleReadOptions {
  /** The share of eventually consistent reads that may answer from the past, 0–1. */
  rate: number;
  /** How far back such a read may see; DynamoDB usually converges within a second. */
  windowMs?: number;
  /** Draws for the rate and the lag; tests pass `() => 0` for a read always as old as the window allows. */
  random?: () => number;
}

/** An earlier version of an item, and when a write replaced it (undefined: the item did not exist). */
interface Replaced {
  item: Item | undefined;
  replacedAt: number;
}

export class StaleReads {
  /** Reads that were answered from an earlier version, by command. */
  readonly served = new Map<string, number>();
  private readonly history = new Map<string, Replaced[]>();
  /** From the options; tests may change it as they go. */
  rate: number;
  readonly windowMs: number;
  private readonly random: () => number;

  constructor(options: StaleReadOptions) {
    this.rate = options.rate;
    this.windowMs = options.windowMs ?? 1000;
    this.random = options.random ?? Math.random;
  }

  readonly plugin: ClientPlugin = {
    applyToStack: (stack: MiddlewareStack<object, object>) => {
      // Before serialization, so that it can ask for ALL_OLD; outside the retry loop, so that it
      // records only writes that succeeded (and that fault injection let through).
      stack.add(this.middleware, { step: 'serialize', name: 'pigeonholeStaleReads', priority: 'high' });
    },
  };

  private readonly middleware: SerializeMiddleware<object, object> = (next, context: HandlerExecutionContext) => async (args) => {
    if (context.clientName !== 'DynamoDBClient') return next(args);
    const command = context.commandName ?? '';
    const input = args.input as Record<string, unknown>;
    if (command === 'PutItemCommand' || command === 'UpdateItemCommand' || command === 'DeleteItemCommand') {
      const asked = input.ReturnValues as string | undefined;
      if (asked !== undefined && asked !== 'NONE' && asked !== 'ALL_OLD') return next(args);
      const result = await next({ ...args, input: { ...input, ReturnValues: 'ALL_OLD' } });
      const output = result.output as { Attributes?: Item };
      const table = input.TableName as string;
      const key = command === 'PutItemCommand' ? keyOf(table, input.Item as Item) : (input.Key as Item);
      if (key) this.remember(table, key, output.Attributes);
      if (asked !== 'ALL_OLD') delete output.Attributes;
      return result;
    }
    const result = await next(args);
    if (command === 'GetItemCommand') this.staleGet(input, result.output as { Item?: Item });
    if (command === 'BatchGetItemCommand') this.staleBatchGet(input, result.output as { Responses?: Record<string, Item[]> });
    if (command === 'QueryCommand') this.staleQuery(input, result.output as { Items?: Item[]; Count?: number });
    return result;
  };

  private remember(table: string, key: Item, before: Item | undefined): void {
    const id = keyId(table, key);
    const now = Date.now();
    const versions = (this.history.get(id) ?? []).filter((version) => version.replacedAt > now - this.windowMs);
    versions.push({ item: before, replacedAt: now });
    this.history.set(id, versions);
  }

  /** The item as a read that lags this time sees it: undefined for the latest, else `{ item }`. */
  private pastVersion(table: string, key: Item): { item: Item | undefined } | undefined {
    const versions = this.history.get(keyId(table, key));
    if (!versions?.length || this.random() >= this.rate) return undefined;
    const seenAt = Date.now() - (1 - this.random()) * this.windowMs;
    // The version current at `seenAt` is the first one replaced after it.
    const version = versions.find((v) => v.replacedAt > seenAt);
    return version && { item: version.item };
  }

  private count(command: string): void {
    this.served.set(command, (this.served.get(command) ?? 0) + 1);
  }

  private staleGet(input: Record<string, unknown>, output: { Item?: Item }): void {
    if (input.ConsistentRead === true || projected(input)) return;
    const past = this.pastVersion(input.TableName as string, input.Key as Item);
    if (!past) return;
    this.count('GetItem');
    if (past.item) output.Item = past.item;
    else delete output.Item;
  }

  private staleBatchGet(input: Record<string, unknown>, output: { Responses?: Record<string, Item[]> }): void {
    const requests = (input.RequestItems ?? {}) as Record<string, { Keys?: Item[]; ConsistentRead?: boolean } & Record<string, unknown>>;
    for (const [table, request] of Object.entries(requests)) {
      if (request.ConsistentRead === true || projected(request)) continue;
      const found = new Map((output.Responses?.[table] ?? []).map((item) => [keyId(table, keyOf(table, item) ?? item), item]));
      let changed = false;
      for (const key of request.Keys ?? []) {
        const past = this.pastVersion(table, key);
        if (!past) continue;
        changed = true;
        this.count('BatchGetItem');
        // Only keys that were answered: one left unprocessed is the caller's to retry.
        const id = keyId(table, key);
        if (past.item) found.set(id, past.item);
        else found.delete(id);
      }
      if (changed) (output.Responses ??= {})[table] = [...found.values()];
    }
  }

  private staleQuery(input: Record<string, unknown>, output: { Items?: Item[]; Count?: number }): void {
    // A query of a global secondary index is always eventually consistent.
    const eventual = input.ConsistentRead !== true || input.IndexName !== undefined;
    if (!eventual || projected(input) || input.FilterExpression !== undefined || !output.Items) return;
    const table = input.TableName as string;
    const items: Item[] = [];
    for (const item of output.Items) {
      const key = keyOf(table, item);
      const past = key && this.pastVersion(table, key);
      if (!past) items.push(item);
      else {
        this.count('Query');
        if (past.item) items.push(past.item);
      }
    }
    output.Items = items;
    output.Count = items.length;
  }
}

function projected(input: Record<string, unknown>): boolean {
  return input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined;
}

/** The key attributes of an item, by the declaration of the table (local names end with its name). */
function keyOf(table: string, item: Item): Item | undefined {
  const declaration = tables.find((t) => table.endsWith(t.name));
  if (!declaration) return undefined;
  const names = [declaration.partitionKey, ...(declaration.sortKey ? [declaration.sortKey] : [])];
  if (!names.every((name) => item[name] !== undefined)) return undefined;
  return Object.fromEntries(names.map((name) => [name, item[name]]));
}

function keyId(table: string, key: Item): string {
  const sorted = Object.keys(key).sort().map((name) => [name, key[name]]);
  return `${table}\u0000${JSON.stringify(sorted)}`;
}

/** Reads a share of reads, `0.1` or `10%`; throws on anything else. */
export function parseStaleReadShare(spec: string): number {
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(spec.trim());
  const share = match ? Number(match[1]) / (match[2] ? 100 : 1) : Number.NaN;
  if (!(share >= 0 && share <= 1)) throw new Error(`'${spec}' is not a share of reads: use 0.1 or 10%`);
  return share;
}
