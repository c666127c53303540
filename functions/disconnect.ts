/** `$disconnect`: forgets the connection. API Gateway calls it on a best-effort basis; the record expires anyway. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { clock } from '../lib/clock';
import { logger } from '../lib/lambda/logger';
import { connectionStore } from '../lib/lambda/stores';
import { callerOf, parseWebSocketEvent } from '../lib/lambda/websocket-event';

const connections = connectionStore();

export const handler = middy<unknown, { statusCode: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (rawEvent) => {
    const caller = callerOf(parseWebSocketEvent(rawEvent));
    logger.appendKeys(caller);
    await connections.remove(caller.userId, caller.connectionId, clock.now());
    return { statusCode: 200 };
  });
