/**
 * The one wrapper every WebSocket message route goes through: it parses and validates the frame,
 * calls the route's domain function, and turns the result, or the error, into the reply frame that
 * API Gateway's route response sends back on the same connection.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { AppError, BadRequestError, internalErrorMessage, RateLimitedError } from '../errors';
import { describeIssues, isFrameErrorCode, limits, type Reply, type Schema, type ServerFrame } from '../protocol';
import { logger } from './logger';
import type { Caller } from '../connecting/connections';
import { callerOf, frameText, parseWebSocketEvent, type WebSocketEvent } from './websocket-event';

export interface RouteResponse {
  statusCode: number;
  body?: string;
}

export interface FrameContext {
  caller: Caller;
  event: WebSocketEvent;
  lambdaContext: Context;
}

export function frameRoute<Frame extends object>(
  schema: Schema<Frame>,
  handle: (frame: Frame, context: FrameContext) => Promise<Reply>,
) {
  return middy<unknown, RouteResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (rawEvent, lambdaContext) => {
      const event = parseWebSocketEvent(rawEvent);
      const caller = callerOf(event);
      logger.appendKeys({ ...caller, route: event.requestContext.routeKey });

      const json = parseJson(frameText(event));
      const requestId = json.ok ? requestIdOf(json.value) : undefined;
      try {
        if (!json.ok) throw new BadRequestError('the frame is not valid JSON');
        const frame = validate(schema, json.value);
        return respond(await handle(frame, { caller, event, lambdaContext }), requestId);
      } catch (error) {
        return respond(errorReply(error), requestId);
      }
    });
}

/** Maps any error to its frame: typed errors say what went wrong, anything else says nothing. */
export function errorReply(error: unknown): Reply {
  if (error instanceof AppError) {
    const code = isFrameErrorCode(error.code) ? error.code : 'BAD_REQUEST';
    return { type: 'error', code, message: error.message, ...(error instanceof RateLimitedError && { retryAfterMs: error.retryAfterMs }) };
  }
  logger.error('request failed', error as Error);
  return { type: 'error', code: 'INTERNAL', message: internalErrorMessage };
}

function respond(reply: Reply, requestId: string | undefined): RouteResponse {
  const frame = (requestId === undefined ? reply : { ...reply, requestId }) as ServerFrame;
  return { statusCode: 200, body: JSON.stringify(frame) };
}

function validate<Frame extends object>(schema: Schema<Frame>, value: unknown): Frame {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequestError('a frame must be a JSON object');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequestError(describeIssues(parsed.error));
  return parsed.data;
}

type JsonResult = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Echoed even when the rest of the frame is invalid, so the client can match the error. */
function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const requestId: unknown = (value as { requestId?: unknown }).requestId;
  return typeof requestId === 'string' && requestId.length <= limits.requestIdMaxChars ? requestId : undefined;
}
