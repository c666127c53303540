/**
 * Counts what the handlers ask of DynamoDB: requests by command, and the capacity units DynamoDB
 * reports for them. Every DynamoDB call is made with `ReturnConsumedCapacity: TOTAL`, so the units
 * are DynamoDB's own figures, not estimates. Used by tests and benchmarks through the local stack.
 */
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware, MiddlewareStack } from '@smithy/types';
import type { ClientPlugin } from '../lib/aws/client-plugins';

/** The DynamoDB commands that report consumed capacity when asked. */
const reportsCapacity = new Set([
  'GetItemCommand',
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'BatchWriteItemCommand',
  'TransactGetItemsCommand',
  'TransactWriteItemsCommand',
]);

export interface Metered {
  requests: number;
  readUnits: number;
  writeUnits: number;
  /**
   * Conditional writes DynamoDB refused (ConditionalCheckFailedException). DynamoDB charges them as
   * writes of the item, but reports no capacity with the error: they are counted here, not in `writeUnits`.
   */
  refusedWrites: number;
  byCommand: Record<string, number>;
  byTable: Record<string, { readUnits: number; writeUnits: number }>;
}

export class RequestMeter {
  private totals: Metered = empty();

  readonly plugin: ClientPlugin = {
    applyToStack: (stack: MiddlewareStack<object, object>) => {
      stack.add(this.middleware, { step: 'initialize', name: 'pigeonholeRequestMeter', priority: 'high' });
    },
  };

  /** What was counted since the last reset, and a fresh count from here on. */
  take(): Metered {
    const taken = this.totals;
    this.totals = empty();
    return taken;
  }

  private readonly middleware: InitializeMiddleware<object, object> = (next, context) => async (args) => {
    if (context.clientName !== 'DynamoDBClient' || !reportsCapacity.has(context.commandName ?? '')) return next(args);
    const input = args.input as { ReturnConsumedCapacity?: string };
    const command = context.commandName ?? '';
    let result: Awaited<ReturnType<typeof next>>;
    try {
      result = await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } });
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') this.totals.refusedWrites += 1;
      throw error;
    }
    this.totals.requests += 1;
    this.totals.byCommand[command] = (this.totals.byCommand[command] ?? 0) + 1;
    const reported = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
    for (const capacity of [reported ?? []].flat()) this.add(command, capacity);
    return result;
  };

  private add(command: string, capacity: ConsumedCapacity): void {
    // DynamoDB reports a total; whether it was read or written follows from the command.
    const writes = /Put|Update|Delete|BatchWrite|TransactWrite/.test(command);
    const units = capacity.CapacityUnits ?? 0;
    const table = capacity.TableName ?? 'unknown';
    const entry = (this.totals.byTable[table] ??= { readUnits: 0, writeUnits: 0 });
    if (writes) {
      this.totals.writeUnits += units;
      entry.writeUnits += units;
    } else {
      this.totals.readUnits += units;
      entry.readUnits += units;
    }
  }
}

function empty(): Metered {
  return { requests: 0, readUnits: 0, writeUnits: 0, refusedWrites: 0, byCommand: {}, byTable: {} };
}
