/**
 * Fault injection for the local stack: failures that DynamoDB Local and the emulator never produce
 * by themselves. The fault is raised inside the retry loop (the SDK's, or aws-api.ts's, which is the
 * SDK's strategy), where a failed HTTP attempt would surface, so the call is retried as it would be
 * on AWS (a 500, a throttle, a timeout) and the rest is passed on (a 410).
 */
import { InternalServerError, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { AwsError } from '../lib/aws/aws-api';
import { hookPlugin, type AwsCall, type ClientPlugin } from '../lib/aws/client-plugins';
import { currentFunction } from './grants';

/**
 * `timeout`: the request never reached the service. `lost-reply`: the service did what was asked, but
 * the answer was lost and the caller sees a timeout, so a retry repeats a write that was made.
 */
export type FaultKind = 'server-error' | 'throttled' | 'timeout' | 'lost-reply' | 'gone';

export interface FaultRule {
  client: 'DynamoDBClient' | 'ApiGatewayManagementApiClient' | 'LambdaClient' | 'EventBridgeClient';
  /** e.g. 'PutItemCommand'; any command when unset. */
  command?: string;
  /** Only DynamoDB requests on this table. */
  table?: string;
  /** Only requests made by this function of the catalog (the local stack runs them all in one process). */
  function?: string;
  /** Only requests whose input this accepts: one update among many to the same table, say. */
  where?: (input: Record<string, unknown>) => boolean;
  /** The share of matching requests that fail, 0–1. */
  rate?: number;
  /** Fail only this many requests, then stand aside (for the rules after it). */
  times?: number;
  /** Several kinds: each failing request gets one of them, at random. */
  fault: FaultKind | readonly FaultKind[];
}

export class FaultInjector {
  private readonly rules = new Set<FaultRule>();
  /** Decides which requests fail; a seeded one makes a run's faults repeatable (see seeded-random). */
  random: () => number = Math.random;
  /** Faults raised so far, by client and kind: `DynamoDBClient throttled`. */
  readonly injected = new Map<string, number>();
  /** Requests seen so far (each attempt of a retried one), by client. */
  readonly requests = new Map<string, number>();

  readonly plugin: ClientPlugin = hookPlugin((call, next) => this.intercept(call, next), {
    step: 'deserialize',
    name: 'pigeonholeFaultInjection',
    priority: 'high',
  });

  /** Adds a rule; the returned function removes it. */
  inject(rule: FaultRule): () => void {
    this.rules.add(rule);
    return () => this.rules.delete(rule);
  }

  clear(): void {
    this.rules.clear();
  }

  private readonly uses = new WeakMap<FaultRule, number>();

  /** Counts a use of a rule with `times`; true when it has none left. */
  private spent(rule: FaultRule): boolean {
    const used = this.uses.get(rule) ?? 0;
    if (used >= (rule.times ?? Infinity)) return true;
    this.uses.set(rule, used + 1);
    return false;
  }

  /** One attempt of a call: failed as a matching rule says, or passed on. */
  private async intercept({ client: clientName, command, input }: AwsCall, next: () => Promise<unknown>): Promise<unknown> {
    const { TableName, RequestItems } = input as { TableName?: string; RequestItems?: Record<string, unknown> };
    const tables = TableName ? [TableName] : Object.keys(RequestItems ?? {});
    this.requests.set(clientName, (this.requests.get(clientName) ?? 0) + 1);
    for (const rule of this.rules) {
      if (rule.client !== clientName) continue;
      if (rule.command && rule.command !== command) continue;
      if (rule.table && !tables.includes(rule.table)) continue;
      if (rule.function && currentFunction.getStore() !== rule.function) continue;
      if (rule.where && !rule.where(input)) continue;
      if (this.random() >= (rule.rate ?? 1)) continue;
      if (rule.times !== undefined && this.spent(rule)) continue;
      const fault = typeof rule.fault === 'string' ? rule.fault : (rule.fault[Math.floor(this.random() * rule.fault.length)] as FaultKind);
      const key = `${rule.client} ${fault}`;
      this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
      if (fault === 'lost-reply') await next();
      throw faultError(rule.client, fault);
    }
    return next();
  }
}

/** The error AWS would answer with, as the client in use surfaces it: the SDK's classes for DynamoDB, aws-api.ts's for the rest. */
function faultError(client: FaultRule['client'], fault: FaultKind): Error {
  const message = `injected ${fault}`;
  if (fault === 'timeout' || fault === 'lost-reply') return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  if (client === 'DynamoDBClient') {
    if (fault === 'throttled') return new ProvisionedThroughputExceededException({ message, $metadata: { httpStatusCode: 400 } });
    return new InternalServerError({ message, $metadata: { httpStatusCode: 500 } });
  }
  if (fault === 'gone') return new AwsError('GoneException', message, 410);
  if (client === 'EventBridgeClient') {
    // What PutEvents answers when EventBridge is throttled or failing; both are retried.
    return fault === 'throttled' ? new AwsError('ThrottlingException', message, 400) : new AwsError('InternalException', message, 500);
  }
  if (fault === 'throttled') return client === 'LambdaClient' ? new AwsError('TooManyRequestsException', message, 429) : new AwsError('LimitExceededException', message, 429);
  return new AwsError(client === 'LambdaClient' ? 'ServiceException' : 'InternalServerErrorException', message, 500);
}

/** Shares of failing calls, 0–1, as `npm start --faults` and the chaos suite take them. */
export interface FaultMix {
  /** DynamoDB requests: throttled, 500, timed out, or done with the answer lost, in equal parts. */
  dynamodb?: number;
  /** `@connections` posts: 410, 429 or 500, in equal parts. */
  connections?: number;
}

const dynamodbFaults: readonly FaultKind[] = ['throttled', 'server-error', 'timeout', 'lost-reply'];
const connectionFaults: readonly FaultKind[] = ['gone', 'throttled', 'server-error'];

/** The rules for a mix: each kind of fault gets an equal part of its share. */
export function faultRules(mix: FaultMix): FaultRule[] {
  const rules: FaultRule[] = [];
  if (mix.dynamodb) rules.push({ client: 'DynamoDBClient', rate: mix.dynamodb, fault: dynamodbFaults });
  if (mix.connections) {
    rules.push({ client: 'ApiGatewayManagementApiClient', command: 'PostToConnectionCommand', rate: mix.connections, fault: connectionFaults });
  }
  return rules;
}

/** Reads `dynamodb=0.05,connections=0.05` (a share, or a percentage such as `5%`); throws on anything else. */
export function parseFaultMix(spec: string): FaultMix {
  const mix: FaultMix = {};
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^(dynamodb|connections)=(\d+(?:\.\d+)?)(%?)$/.exec(part);
    const share = match ? Number(match[2]) / (match[3] ? 100 : 1) : Number.NaN;
    if (!match || !(share >= 0 && share <= 1)) {
      throw new Error(`'${part}' is not a fault share: use dynamodb=0.05 or connections=5% (a share from 0 to 1, or 0% to 100%)`);
    }
    mix[match[1] as keyof FaultMix] = share;
  }
  return mix;
}

export function describeFaultMix(mix: FaultMix): string {
  const percent = (share = 0) => `${+(share * 100).toFixed(2)} %`;
  return `${percent(mix.dynamodb)} of DynamoDB requests (throttled, 500, timeout, lost reply), ${percent(mix.connections)} of @connections posts (410, 429, 500)`;
}
