/**
 * Events as API Gateway builds them for a WebSocket API, so that the handlers run locally on exactly
 * the input they get on AWS. Shapes follow the API Gateway developer guide's examples for REQUEST
 * authorizers and for the `$connect`, message and `$disconnect` integrations.
 */
import { randomBytes } from 'node:crypto';

export interface ApiIdentity {
  apiId: string;
  stage: string;
  region: string;
  accountId: string;
  domainName: string;
}

/** What the upgrade request carried, in API Gateway's terms. */
export interface UpgradeRequest {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters?: Record<string, string>;
  multiValueQueryStringParameters?: Record<string, string[]>;
  sourceIp: string;
  userAgent: string;
}

export interface ConnectionFacts {
  connectionId: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
}

/** API Gateway's ids look like `L0SM9cOFvHcCIhw=`: base64 of 11 random bytes. */
export function gatewayId(): string {
  return randomBytes(11).toString('base64');
}

export function methodArn(api: ApiIdentity, routeKey: string): string {
  return `arn:aws:execute-api:${api.region}:${api.accountId}:${api.apiId}/${api.stage}/${routeKey}`;
}

function requestContext(
  api: ApiIdentity,
  connection: ConnectionFacts,
  routeKey: string,
  eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT',
) {
  const requestId = gatewayId();
  const now = Date.now();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: commonLogTime(new Date(now)),
    messageDirection: 'IN',
    stage: api.stage,
    connectedAt: connection.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
    requestId,
    domainName: api.domainName,
    connectionId: connection.connectionId,
    apiId: api.apiId,
  };
}

export function authorizerEvent(api: ApiIdentity, connection: ConnectionFacts, request: UpgradeRequest) {
  return {
    type: 'REQUEST',
    methodArn: methodArn(api, '$connect'),
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    ...queryOf(request),
    stageVariables: {},
    requestContext: requestContext(api, connection, '$connect', 'CONNECT'),
  };
}

export function connectEvent(
  api: ApiIdentity,
  connection: ConnectionFacts,
  request: UpgradeRequest,
  authorizer: Record<string, unknown> | undefined,
) {
  return {
    headers: request.headers,
    multiValueHeaders: request.multiValueHeaders,
    ...queryOf(request),
    requestContext: { ...requestContext(api, connection, '$connect', 'CONNECT'), ...(authorizer && { authorizer }) },
    isBase64Encoded: false,
  };
}

export function messageEvent(
  api: ApiIdentity,
  connection: ConnectionFacts,
  authorizer: Record<string, unknown> | undefined,
  routeKey: string,
  body: string,
) {
  return {
    requestContext: {
      ...requestContext(api, connection, routeKey, 'MESSAGE'),
      messageId: gatewayId(),
      ...(authorizer && { authorizer }),
    },
    body,
    // API Gateway closes a binary frame with 1003, so a message event is always text.
    isBase64Encoded: false,
  };
}

export function disconnectEvent(
  api: ApiIdentity,
  connection: ConnectionFacts,
  authorizer: Record<string, unknown> | undefined,
  statusCode: number,
  reason: string,
) {
  const headers = { Host: api.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    requestContext: {
      ...requestContext(api, connection, '$disconnect', 'DISCONNECT'),
      disconnectStatusCode: statusCode,
      disconnectReason: reason,
      ...(authorizer && { authorizer }),
    },
    isBase64Encoded: false,
  };
}

/** API Gateway leaves the query fields out entirely when the URL has no query string. */
function queryOf(request: UpgradeRequest) {
  return request.queryStringParameters
    ? {
        queryStringParameters: request.queryStringParameters,
        multiValueQueryStringParameters: request.multiValueQueryStringParameters,
      }
    : {};
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `09/Apr/2015:12:34:56 +0000`, as in API Gateway's `requestTime`. */
function commonLogTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}
