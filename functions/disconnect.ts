/**
 * `$disconnect`: forgets the connection and ends its chatroom memberships. API Gateway calls it on a
 * best-effort basis; connection records and memberships expire anyway.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { leaveRooms } from '../lib/conversations/chatrooms';
import { clock } from '../lib/clock';
import { logger } from '../lib/lambda/logger';
import { statsCounters } from '../lib/lambda/stats';
import { connectionStore, roomStore } from '../lib/lambda/stores';
import { parseDisconnectEvent } from '../lib/lambda/websocket-event';

const connections = connectionStore();
const rooms = roomStore();
const stats = statsCounters();

export const handler = middy<unknown, { statusCode: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (rawEvent) => {
    const { connectionId, userId } = parseDisconnectEvent(rawEvent);
    logger.appendKeys({ connectionId, userId });
    if (userId === undefined) {
      // Records are kept by user, so this one cannot be found. It is not lost: it expires with API
      // Gateway's two-hour maximum, the first post to it gets 410 and removes it, and its room
      // memberships expire with it.
      logger.info('$disconnect without authorizer context: the connection record is left to expire');
      return { statusCode: 200 };
    }
    const { joinedRooms } = await connections.remove(userId, connectionId, clock.now());
    stats.add('connectionsClosed', 1);
    if (joinedRooms) await leaveRooms({ rooms }, connectionId);
    return { statusCode: 200 };
  });
