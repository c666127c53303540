/** `$connect`: records the new connection, so that pushes find it, and starts the drain of its queue. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { clock } from '../lib/clock';
import { registerConnection } from '../lib/connections';
import { logger } from '../lib/lambda/logger';
import { connectionStore, drainStarter } from '../lib/lambda/stores';
import { callerOf, parseWebSocketEvent } from '../lib/lambda/websocket-event';
import { connectQuerySchema, describeIssues } from '../lib/protocol';

const connections = connectionStore();
const drains = drainStarter();

export const handler = middy<unknown, { statusCode: number; body?: string }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (rawEvent) => {
    const event = parseWebSocketEvent(rawEvent);
    const caller = callerOf(event);
    logger.appendKeys(caller);

    const query = connectQuerySchema.safeParse(event.queryStringParameters ?? {});
    // A non-2xx answer here makes API Gateway refuse the upgrade with that status.
    if (!query.success) return { statusCode: 400, body: describeIssues(query.error) };

    await registerConnection(connections, clock, {
      ...caller,
      ...(query.data.deviceId === undefined ? {} : { deviceId: query.data.deviceId }),
    });
    try {
      await drains.start(caller);
    } catch (error) {
      // The connection still works: the queue stays stored and comes on `sync` or the next connect.
      logger.error('could not start the drain', error as Error);
    }
    return { statusCode: 200 };
  });
