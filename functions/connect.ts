/** `$connect`: records the new connection, so that pushes find it, and starts the drain of its queue. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { clock } from '../lib/clock';
import { openConnection } from '../lib/connecting/open-connection';
import { logger } from '../lib/lambda/logger';
import { statsCounters } from '../lib/lambda/stats';
import { connectionPoster, connectionStore, drainStarter, settingsReader } from '../lib/lambda/stores';
import { callerOf, parseWebSocketEvent } from '../lib/lambda/websocket-event';
import { connectQuerySchema, describeIssues } from '../lib/protocol';

const deps = {
  connections: connectionStore(),
  drains: drainStarter(),
  settings: settingsReader(),
  clock,
  poster: connectionPoster(),
  log: logger,
  stats: statsCounters(),
};

export const handler = middy<unknown, { statusCode: number; body?: string }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (rawEvent) => {
    const event = parseWebSocketEvent(rawEvent);
    const caller = callerOf(event);
    logger.appendKeys(caller);
    const query = connectQuerySchema.safeParse(event.queryStringParameters ?? {});
    // A non-2xx answer here makes API Gateway refuse the upgrade with that status.
    if (!query.success) return { statusCode: 400, body: describeIssues(query.error) };
    return { statusCode: (await openConnection(deps, caller, query.data)) === 'opened' ? 200 : 500 };
  });
