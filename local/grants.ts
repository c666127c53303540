/**
 * The catalog's grants, enforced on the local stack: each AWS call a handler makes is checked against
 * what its function's catalog entry grants, and refused with AccessDeniedException as IAM would refuse
 * it on AWS. A grant missing from functions/catalog.ts then fails `npm test`, not the first request
 * after `cdk deploy`.
 *
 * Every handler shares this process, so the calling function is known from the invocation it runs in
 * (AsyncLocalStorage, entered by lambda-runtime's `invoke`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConnectionMethod, FunctionDeclaration, TableAction } from '../functions/catalog';
import { hookPlugin, type AwsCall, type ClientPlugin } from '../lib/aws/client-plugins';

/** The function whose invocation is running, in this async context. */
export const currentFunction = new AsyncLocalStorage<string>();

/** An IAM refusal, as the SDK surfaces it: a client error, not retried. */
export class AccessDeniedException extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
}

type Needed = { what: string; granted: (declaration: FunctionDeclaration) => boolean };

const connectionMethods: Record<string, ConnectionMethod> = {
  PostToConnectionCommand: 'POST',
  GetConnectionCommand: 'GET',
  DeleteConnectionCommand: 'DELETE',
};

export class LocalGrants {
  constructor(
    private readonly catalog: Readonly<Record<string, FunctionDeclaration>>,
    /** The local name of each table, to tell which table a request names. */
    private readonly tableNames: ReadonlyMap<string, string>,
    /** The local name of each function, for Lambda Invoke. */
    private readonly functionNames: ReadonlyMap<string, string> = new Map(),
  ) {}

  readonly plugin: ClientPlugin = hookPlugin((call, next) => this.check(call, next), { step: 'initialize', name: 'pigeonholeLocalGrants', priority: 'high' });

  private async check({ client, command, input }: AwsCall, next: () => Promise<unknown>): Promise<unknown> {
    const caller = currentFunction.getStore();
    const declaration = caller === undefined ? undefined : this.catalog[caller];
    if (declaration) {
      for (const needed of this.needs(client, command, input)) {
        if (!needed.granted(declaration)) {
          throw new AccessDeniedException(`${caller} is not authorized to perform ${needed.what}: functions/catalog.ts does not grant it`);
        }
      }
    }
    return next();
  }

  private needs(client: string, command: string, input: Record<string, unknown>): Needed[] {
    const action = command.replace(/Command$/, '');
    switch (client) {
      case 'DynamoDBClient': {
        const tables = typeof input.TableName === 'string' ? [input.TableName] : Object.keys((input.RequestItems as object | undefined) ?? {});
        const index = typeof input.IndexName === 'string' ? input.IndexName : undefined;
        return tables.map((local) => {
          const table = this.tableNames.get(local) ?? local;
          return {
            what: `dynamodb:${action} on ${table}${index ? `/index/${index}` : ''}`,
            granted: (declaration) =>
              (declaration.tables ?? []).some(
                (access) =>
                  access.table.name === table &&
                  access.actions.includes(action as TableAction) &&
                  (index ? (access.indexes ?? []).includes(index) : !access.indexesOnly),
              ),
          };
        });
      }
      case 'ApiGatewayManagementApiClient': {
        const method = connectionMethods[command];
        return [{ what: `execute-api:ManageConnections (${method ?? command} @connections)`, granted: (d) => method !== undefined && (d.connections ?? []).includes(method) }];
      }
      case 'SQSClient':
        return [
          {
            what: `sqs:${action}`,
            granted: (d) => (action === 'SendMessage' ? d.fanOutJobs === 'send' : action === 'StartMessageMoveTask' ? d.fanOutJobs === 'redrive' : d.fanOutJobs === 'consume'),
          },
        ];
      case 'LambdaClient': {
        const target = this.functionNames.get(String(input.FunctionName)) ?? String(input.FunctionName);
        return [{ what: `lambda:InvokeFunction on ${target}`, granted: (d) => (d.invokes ?? []).includes(target) }];
      }
      case 'EventBridgeClient':
        return [{ what: `events:${action}`, granted: (d) => action === 'PutEvents' && Boolean(d.offlineEvents) }];
      case 'CloudWatchClient':
        return [{ what: `cloudwatch:${action}`, granted: (d) => action === 'GetMetricData' && 'readsMetrics' in d && Boolean(d.readsMetrics) }];
      default:
        return [{ what: `${client} ${command}`, granted: () => false }];
    }
  }
}
