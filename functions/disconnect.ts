/**
 * `$disconnect`: forgets the connection and ends its chatroom memberships. API Gateway calls it on a
 * best-effort basis; connection records and memberships expire anyway.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { leaveRooms } from '../lib/chatrooms';
import { clock } from '../lib/clock';
import { logger } from '../lib/lambda/logger';
import { statsCounters } from '../lib/lambda/stats';
import { connectionStore, roomStore } from '../lib/lambda/stores';
import { callerOf, parseWebSocketEvent } from '../lib/lambda/websocket-event';

const connections = connectionStore();
const rooms = roomStore();
const stats = statsCounters();

export const handler = middy<unknown, { statusCode: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (rawEvent) => {
    const caller = callerOf(parseWebSocketEvent(rawEvent));
    logger.appendKeys(caller);
    const { rooms: joined } = await connections.remove(caller.userId, caller.connectionId, clock.now());
    stats.add('connectionsClosed', 1);
    await leaveRooms({ rooms }, caller.connectionId, joined);
    return { statusCode: 200 };
  });
