/**
 * The parts of API Gateway's WebSocket events that the handlers use, checked at the edge so that no
 * handler reaches into an event with `!`.
 */
import * as z from 'zod/mini';
import type { Caller } from '../connecting/connections';
import { userIdSchema } from '../protocol';

/**
 * What the authorizer returned on `$connect`; API Gateway hands it to every later route of the
 * connection, so every route knows its caller without a lookup.
 */
const authorizerContextSchema = z.object({ principalId: userIdSchema });

export const webSocketEventSchema = z.object({
  requestContext: z.object({
    routeKey: z.string(),
    eventType: z.enum(['CONNECT', 'MESSAGE', 'DISCONNECT']),
    connectionId: z.string().check(z.minLength(1)),
    requestId: z.string(),
    connectedAt: z.number(),
    authorizer: authorizerContextSchema,
  }),
  queryStringParameters: z.nullish(z.record(z.string(), z.string())),
  body: z.nullish(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});

export type WebSocketEvent = z.infer<typeof webSocketEventSchema>;

/** Parses an event from API Gateway; a mismatch is a wiring fault, never the client's. */
export function parseWebSocketEvent(event: unknown): WebSocketEvent {
  const parsed = webSocketEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`unexpected WebSocket event shape: ${parsed.error.message}`);
  return parsed.data;
}

export function callerOf(event: WebSocketEvent): Caller {
  return { userId: event.requestContext.authorizer.principalId, connectionId: event.requestContext.connectionId };
}

/**
 * `$disconnect` as API Gateway documents it: its sample event has no `authorizer`, so the user may be
 * unknown here, and only the connection id is certain.
 */
const disconnectEventSchema = z.object({
  requestContext: z.object({
    eventType: z.literal('DISCONNECT'),
    connectionId: z.string().check(z.minLength(1)),
    authorizer: z.optional(authorizerContextSchema),
  }),
});

export interface Disconnecting {
  connectionId: string;
  userId: string | undefined;
}

export function parseDisconnectEvent(event: unknown): Disconnecting {
  const parsed = disconnectEventSchema.safeParse(event);
  if (!parsed.success) throw new Error(`unexpected $disconnect event shape: ${parsed.error.message}`);
  const { connectionId, authorizer } = parsed.data.requestContext;
  return { connectionId, userId: authorizer?.principalId };
}

/** The frame's text; API Gateway base64-encodes binary frames. */
export function frameText(event: WebSocketEvent): string {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}
