/**
 * Fault injection for the local stack: failures that DynamoDB Local and the emulator never produce
 * by themselves. The fault is raised inside the SDK's retry loop, where a failed HTTP attempt would
 * surface, so the SDK retries what it would retry on AWS (a 500, a throttle, a timeout) and passes
 * on the rest (a 410).
 */
import { ApiGatewayManagementApiServiceException, GoneException, LimitExceededException } from '@aws-sdk/client-apigatewaymanagementapi';
import { InternalServerError, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import type { DeserializeMiddleware, HandlerExecutionContext, MiddlewareStack } from '@smithy/types';
import type { ClientPlugin } from '../lib/aws/client-plugins';

/**
 * `timeout`: the request never reached the service. `lost-reply`: the service did what was asked, but
 * the answer was lost and the caller sees a timeout, so a retry repeats a write that was made.
 */
export type FaultKind = 'server-error' | 'throttled' | 'timeout' | 'lost-reply' | 'gone';

export interface FaultRule {
  client: 'DynamoDBClient' | 'ApiGatewayManagementApiClient' | 'LambdaClient';
  /** e.g. 'PutItemCommand'; any command when unset. */
  command?: string;
  /** Only DynamoDB requests on this table. */
  table?: string;
  /** The share of matching requests that fail, 0–1. */
  rate?: number;
  fault: FaultKind;
}

export class FaultInjector {
  private readonly rules = new Set<FaultRule>();
  /** Faults raised so far, by `client.command`. */
  readonly injected = new Map<string, number>();

  readonly plugin: ClientPlugin = {
    applyToStack: (stack: MiddlewareStack<object, object>) => {
      stack.add(this.middleware, { step: 'deserialize', name: 'pigeonholeFaultInjection', priority: 'high' });
    },
  };

  /** Adds a rule; the returned function removes it. */
  inject(rule: FaultRule): () => void {
    this.rules.add(rule);
    return () => this.rules.delete(rule);
  }

  clear(): void {
    this.rules.clear();
  }

  private readonly middleware: DeserializeMiddleware<object, object> =
    (next, context: HandlerExecutionContext) => async (args) => {
      const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
      const tables = input.TableName ? [input.TableName] : Object.keys(input.RequestItems ?? {});
      for (const rule of this.rules) {
        if (rule.client !== context.clientName) continue;
        if (rule.command && rule.command !== context.commandName) continue;
        if (rule.table && !tables.includes(rule.table)) continue;
        if (Math.random() >= (rule.rate ?? 1)) continue;
        const key = `${context.clientName ?? ''}.${context.commandName ?? ''}`;
        this.injected.set(key, (this.injected.get(key) ?? 0) + 1);
        if (rule.fault === 'lost-reply') await next(args);
        throw faultError(rule);
      }
      return next(args);
    };
}

function faultError(rule: FaultRule): Error {
  const message = `injected ${rule.fault}`;
  if (rule.fault === 'timeout' || rule.fault === 'lost-reply') return Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  if (rule.client === 'DynamoDBClient') {
    if (rule.fault === 'throttled') return new ProvisionedThroughputExceededException({ message, $metadata: { httpStatusCode: 400 } });
    return new InternalServerError({ message, $metadata: { httpStatusCode: 500 } });
  }
  if (rule.fault === 'gone') return new GoneException({ message, $metadata: { httpStatusCode: 410 } });
  if (rule.fault === 'throttled') return new LimitExceededException({ message, $metadata: { httpStatusCode: 429 } });
  return new ApiGatewayManagementApiServiceException({
    name: 'InternalServerErrorException',
    $fault: 'server',
    message,
    $metadata: { httpStatusCode: 500 },
  });
}
