/**
 * The drain: invoked asynchronously by `$connect`, it delivers the user's queue to the new connection
 * as soon as API Gateway lets it post there.
 */
import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import * as z from 'zod/mini';
import { clock, sleep } from '../lib/clock';
import { logger } from '../lib/lambda/logger';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, offlineQueue, settingsReader } from '../lib/lambda/stores';
import { messageIdSchema, userIdSchema } from '../lib/protocol';
import { countDelivery, countDrain } from '../lib/admin/stats';
import { drainOnConnect, type DrainDeps } from '../lib/delivery/ordering';
import { queuePolicyFor } from '../lib/retention/queue-plan';

const drainRequestSchema = z.object({
  userId: userIdSchema,
  connectionId: z.string().check(z.minLength(1)),
  discard: z.optional(z.object({ beforeId: messageIdSchema, reason: z.enum(['cleanStart', 'expired']) })),
  ackedUpTo: z.optional(messageIdSchema),
});

const deps: DrainDeps = {
  queue: offlineQueue(),
  poster: connectionPoster(),
  connections: connectionStore(),
  clock,
  sleep,
  log: logger,
};
const settings = settingsReader();
const stats = statsCounters();
// Loaded only when on; a bundle built without tracing has no tracer in it at all (cdk/bundling.ts).
const tracing = process.env.POWERTOOLS_TRACE_ENABLED === 'true' ? await import('../lib/lambda/tracing') : undefined;

export const handler = middy<unknown, void>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const request = drainRequestSchema.parse(event);
    logger.appendKeys({ userId: request.userId, connectionId: request.connectionId });
    // A drainer of its own per invocation: an event Lambda delivers twice finds the drain taken.
    const started = performance.now();
    // The settings are read while the drain claims the connection and reads the queue.
    const report = await drainOnConnect(deps, request, queuePolicyFor(settings, request.userId, request.discard), randomUUID());
    countDelivery(stats, report);
    countDrain(stats, report, performance.now() - started);
    logger.info('drained', { ...report });
  });
if (tracing) handler.use(tracing.traceHandler());
