/**
 * Powertools Tracer (AWS X-Ray) for the send and drain paths, where a slow message is decided: off by
 * default, on with `npx cdk deploy -c tracing=true`, which turns on active tracing for those functions
 * and sets `POWERTOOLS_TRACE_ENABLED=true` in them.
 *
 * Handlers import this module only when tracing is on (`await import`), and a function deployed
 * without it is bundled without it (cdk/bundling.ts): its cold start stays as it was. With
 * it on, every AWS call the handler makes (DynamoDB, `@connections`, EventBridge, SQS) is a subsegment
 * of the invocation, as Powertools captures outgoing HTTPS requests.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { statsService } from '../admin/stats';

export const tracer = new Tracer({ serviceName: statsService });

/** The handler's segment: cold start and service annotations, errors recorded; responses are not (they carry user data). */
export function traceHandler(): ReturnType<typeof captureLambdaHandler> {
  return captureLambdaHandler(tracer, { captureResponse: false });
}
