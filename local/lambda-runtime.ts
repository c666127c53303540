/**
 * Runs handler modules as Lambda would: the module's exported `handler`, called with the event and a
 * Lambda context. Locally every function shares this process, its environment and its module cache.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { currentFunction } from './grants';

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalFunction {
  name: string;
  handler: LambdaHandler;
  timeoutSeconds: number;
}

export const localAccountId = '000000000000';
export const localRegion = 'us-east-1';

export async function loadFunction(
  projectRoot: string,
  name: string,
  entry: string,
  timeoutSeconds: number,
): Promise<LocalFunction> {
  const module = (await import(pathToFileURL(resolve(projectRoot, entry)).href)) as { handler?: unknown };
  if (typeof module.handler !== 'function') throw new Error(`${entry} does not export a handler function`);
  return { name, handler: module.handler as LambdaHandler, timeoutSeconds };
}

/** Runs the handler as the function it is: the AWS calls it makes are checked against its grants (see grants.ts). */
export function invoke(fn: LocalFunction, event: unknown): Promise<unknown> {
  return currentFunction.run(fn.name, () => fn.handler(event, lambdaContext(fn)));
}

function lambdaContext(fn: LocalFunction): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${localRegion}:${localAccountId}:function:${fn.name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
