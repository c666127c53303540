/** Reads a variable the function cannot run without, so a missing one fails at cold start, loudly. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} environment variable is not set`);
  return value;
}

/** The environment variable through which a function learns another's name, e.g. DRAIN_FUNCTION_NAME. */
export function functionNameEnvVar(name: string): string {
  return `${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_FUNCTION_NAME`;
}

/** Where functions that post find the `@connections` API: the stage's callback URL. */
export const connectionsEndpointEnvVar = 'CONNECTIONS_ENDPOINT';

/** Where functions that fan out hand recipients past the inline limit: the fan-out queue's URL. */
export const fanOutQueueUrlEnvVar = 'FANOUT_QUEUE_URL';

/** The fan-out queue's dead-letter queue, for the admin redrive. */
export const fanOutDeadLettersArnEnvVar = 'FAN_OUT_DEAD_LETTERS_ARN';

/** The fan-out queue's name, for reading its depth from CloudWatch (`GET /v1/stats` on AWS). */
export const fanOutQueueNameEnvVar = 'FANOUT_QUEUE_NAME';

/** The EventBridge bus that `OfflineMessageStored` events go to (SPEC §12). */
export const offlineEventBusEnvVar = 'OFFLINE_EVENT_BUS_NAME';

/**
 * Powertools' own switch for its Tracer: the stack sets it to `true` on the traced functions when
 * deployed with tracing on (see lib/lambda/tracing.ts). Handlers test `process.env.POWERTOOLS_TRACE_ENABLED`
 * by that literal name, so that bundling without tracing can define it `"false"` and leave the tracer
 * out of the bundle (cdk/bundling.ts).
 */
export const tracingEnvVar = 'POWERTOOLS_TRACE_ENABLED';
