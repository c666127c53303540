/**
 * The one wrapper every admin API route goes through: it parses the HTTP API (payload 2.0) event,
 * calls the route's domain function, and answers JSON, errors as `{error: {code, message}}` with their
 * status (SPEC §7). A 4xx says what was wrong; a 500 says nothing internal.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError, BadRequestError, internalErrorMessage } from '../errors';
import { logger } from './logger';

export interface HttpRequest {
  pathParameters: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  /** The JSON body, or undefined when there is none. */
  body: unknown;
}

export interface HttpResult {
  status: number;
  body?: unknown;
}

export function httpRoute(handle: (request: HttpRequest) => Promise<HttpResult>) {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      logger.appendKeys({ route: event.routeKey, requestId: event.requestContext.requestId });
      try {
        const result = await handle({
          pathParameters: event.pathParameters ?? {},
          query: event.queryStringParameters ?? {},
          body: parseBody(event),
        });
        return json(result.status, result.body);
      } catch (error) {
        if (error instanceof AppError) return json(error.httpStatus, { error: { code: error.code, message: error.message } });
        logger.error('admin request failed', error as Error);
        return json(500, { error: { code: 'INTERNAL', message: internalErrorMessage } });
      }
    });
}

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError('the body is not valid JSON');
  }
}

function json(status: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}
