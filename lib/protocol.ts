/**
 * The wire protocol (SPEC §4): one schema per frame, shared by the handlers that read client frames,
 * the code that builds server frames, and every client (the tests included) that reads them.
 *
 * Built on zod's tree-shakeable `zod/mini`: the classic `z` namespace would put every zod locale,
 * some 400 KB, into each Lambda bundle.
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// Plain English for any check below that does not bring its own message.
z.config(en());

/** API Gateway's WebSocket frame size; browsers and `ws` send each message as one frame. */
const apiGatewayFrameBytes = 32 * 1024;

export const limits = {
  /** User, group and room ids. */
  idMaxChars: 128,
  requestIdMaxChars: 64,
  clientMsgIdMaxChars: 64,
  /**
   * A message body, serialized as JSON (SPEC §9), on every path: 30 KB leaves room in one 32 KB frame
   * for the `send` envelope around it, the longest ids included.
   */
  bodyMaxBytes: 30 * 1024,
  /** API Gateway closes a connection that sends a larger frame, with 1009. */
  inboundFrameMaxBytes: apiGatewayFrameBytes,
  /** Pushes are packed into frames up to this. */
  outboundFrameMaxBytes: apiGatewayFrameBytes,
  /** A reply (history, recent) stays under API Gateway's 128 KB per message, with room to spare. */
  replyMaxBytes: 120 * 1024,
  ackMaxIds: 100,
  /** Arrays and objects inside a body. Deeper ones overflow the stack of JSON.stringify (and of many clients' parsers) long before 30 KB. */
  bodyMaxDepth: 100,
} as const;

/** A string of `min`–`max` characters, with messages that name the bounds. */
function text(min: number, max: number) {
  return z.string({ error: 'must be a string' }).check(
    z.minLength(min, { error: min === 1 ? 'must not be empty' : `must be at least ${min} characters` }),
    z.maxLength(max, { error: `must be at most ${max} characters` }),
  );
}

/** User, group, room and device ids: 1–128 chars of `[A-Za-z0-9_.@:-]`. */
export const idSchema = text(1, limits.idMaxChars).check(
  z.regex(/^[A-Za-z0-9_.@:-]+$/, { error: 'may only contain letters, digits and _ . @ : -' }),
);

export const userIdSchema = idSchema;

export const requestIdSchema = text(0, limits.requestIdMaxChars);

// ---------------------------------------------------------------------------------------------
// Connecting (SPEC §3): the query string of the WebSocket upgrade.

export const connectQuerySchema = z.object({
  deviceId: z.optional(idSchema),
  cleanStart: z.optional(z.enum(['true', 'false'], { error: "must be 'true' or 'false'" })),
});
export type ConnectQuery = z.infer<typeof connectQuerySchema>;

// ---------------------------------------------------------------------------------------------
// Client → server frames. Unknown fields are ignored, so older servers accept newer clients.

const frameBase = { requestId: z.optional(requestIdSchema) };

/** What API Gateway routes on (`$request.body.action`); a frame without it is malformed. */
export const anyClientFrameSchema = z.object({
  ...frameBase,
  action: z.string({ error: 'is required and must be a string' }),
});

export const pingFrameSchema = z.object({ ...frameBase, action: z.literal('ping') });
export type PingFrame = z.infer<typeof pingFrameSchema>;

/** How deep arrays and objects nest in a parsed JSON value; counted without recursion, as the value may be very deep. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * A message body: any JSON value, null included; only its absence is an error. Its size is checked on
 * its own (TOO_LARGE), after parsing.
 */
export const bodySchema = z.unknown().check(
  z.refine((body) => body !== undefined, { error: 'is required (any JSON value)' }),
  z.refine((body) => jsonDepth(body) <= limits.bodyMaxDepth, { error: `may nest arrays and objects at most ${limits.bodyMaxDepth} deep` }),
);

/** Message ids are ULIDs: 26 characters of Crockford's base32, ordered by time. */
export const messageIdSchema = z
  .string({ error: 'must be a string' })
  .check(z.regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { error: 'must be a message id (a 26-character ULID)' }));

export const sendFrameSchema = z.object({
  ...frameBase,
  action: z.literal('send'),
  type: z.enum(['private', 'group', 'chatroom'], { error: "must be 'private', 'group' or 'chatroom'" }),
  /** The user, group or room. */
  target: idSchema,
  clientMsgId: text(1, limits.clientMsgIdMaxChars),
  body: bodySchema,
  qos: z.optional(z.union([z.literal(0), z.literal(1)], { error: 'must be 0 or 1' })),
  ttlSeconds: z.optional(
    z.int({ error: 'must be a whole number of seconds' }).check(z.gte(1, { error: 'must be at least 1' })),
  ),
});
export type SendFrame = z.infer<typeof sendFrameSchema>;

/**
 * `ack` names the messages to remove (`ids`), or, after a drain's `drained` frame, acknowledges at once
 * everything that drain delivered (`upTo`, the frame's own id): one write however many messages.
 */
export const ackFrameSchema = z
  .object({
    ...frameBase,
    action: z.literal('ack'),
    ids: z.optional(
      z
        .array(messageIdSchema, { error: 'must be an array of message ids' })
        .check(
          z.minLength(1, { error: 'must name at least one message' }),
          z.maxLength(limits.ackMaxIds, { error: `may name at most ${limits.ackMaxIds} messages` }),
        ),
    ),
    upTo: z.optional(messageIdSchema),
  })
  .check(z.refine((frame) => (frame.ids === undefined) !== (frame.upTo === undefined), { error: 'needs either ids or upTo, not both' }));
export type AckFrame = z.infer<typeof ackFrameSchema>;

export const syncFrameSchema = z.object({ ...frameBase, action: z.literal('sync') });

export const historyFrameSchema = z.object({
  ...frameBase,
  action: z.literal('history'),
  type: z.enum(['private', 'group'], { error: "must be 'private' or 'group'" }),
  target: idSchema,
  before: z.optional(messageIdSchema),
  limit: z.optional(
    z.int({ error: 'must be a whole number' }).check(z.gte(1, { error: 'must be at least 1' }), z.lte(100, { error: 'must be at most 100' })),
  ),
});
export type HistoryFrame = z.infer<typeof historyFrameSchema>;

export const recentFrameSchema = z.object({
  ...frameBase,
  action: z.literal('recent'),
  limit: z.optional(
    z.int({ error: 'must be a whole number' }).check(z.gte(1, { error: 'must be at least 1' }), z.lte(100, { error: 'must be at most 100' })),
  ),
});

export const joinRoomFrameSchema = z.object({ ...frameBase, action: z.literal('joinRoom'), room: idSchema });
export const leaveRoomFrameSchema = z.object({ ...frameBase, action: z.literal('leaveRoom'), room: idSchema });

export const getOfflineMessageDurationFrameSchema = z.object({ ...frameBase, action: z.literal('getOfflineMessageDuration') });

/** Days must be a whole number here; whether it is in range (1–7) is the domain's OUT_OF_RANGE. */
export const setOfflineMessageDurationFrameSchema = z.object({
  ...frameBase,
  action: z.literal('setOfflineMessageDuration'),
  days: z.int({ error: 'must be a whole number of days' }),
});

// ---------------------------------------------------------------------------------------------
// Server → client frames.

export const errorCodes = [
  'BAD_REQUEST',
  'UNKNOWN_ACTION',
  'FORBIDDEN',
  'OUT_OF_RANGE',
  'TOO_LARGE',
  'CONFLICT',
  'RATE_LIMITED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/** The admin API's error codes (SPEC §7): the frame codes and a few that only HTTP has. */
export const adminErrorCodes = [...errorCodes, 'NOT_FOUND', 'UNAUTHORIZED'] as const;
export type AdminErrorCode = (typeof adminErrorCodes)[number];

export function isFrameErrorCode(code: AdminErrorCode): code is ErrorCode {
  return (errorCodes as readonly string[]).includes(code);
}

const replyBase = { requestId: z.optional(z.string()) };

export const messageTypes = ['private', 'group', 'system', 'chatroom'] as const;

/** A message as clients see it; times are ISO 8601 UTC. */
export const messageSchema = z.object({
  id: z.string(),
  type: z.enum(messageTypes),
  from: z.string(),
  to: z.string(),
  body: z.unknown(),
  sentAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  qos: z.union([z.literal(0), z.literal(1)]),
});
export type Message = z.infer<typeof messageSchema>;

/** `drain`: sent by the drain on connect, which ends with a `drained` frame once it has delivered all it will. */
export const messagesFrameSchema = z.object({ type: z.literal('messages'), drain: z.optional(z.literal(true)), messages: z.array(messageSchema) });
/**
 * The drain on connect has delivered, in the frames before this one, every queued message up to
 * `upTo`: `ack` with `upTo` acknowledges them all at once.
 */
export const drainedFrameSchema = z.object({ type: z.literal('drained'), upTo: z.string() });
export const sentFrameSchema = z.object({
  ...replyBase,
  type: z.literal('sent'),
  clientMsgId: z.string(),
  id: z.string(),
  status: z.enum(['accepted', 'duplicate']),
});
/** `upTo`: for an `ack` with `upTo`, the bound now acknowledged, or null when it was not (ack by `ids` instead). */
export const ackedFrameSchema = z.object({ ...replyBase, type: z.literal('acked'), ids: z.array(z.string()), upTo: z.optional(z.nullable(z.string())) });
export const syncedFrameSchema = z.object({ ...replyBase, type: z.literal('synced'), count: z.number() });
export const droppedReasons = ['overflow', 'expired', 'cleanStart'] as const;
export const droppedFrameSchema = z.object({ type: z.literal('dropped'), count: z.number(), reason: z.enum(droppedReasons) });
export type DroppedReason = (typeof droppedReasons)[number];
export const offlineMessageDurationFrameSchema = z.object({
  ...replyBase,
  type: z.literal('offlineMessageDuration'),
  days: z.number(),
  source: z.enum(['user', 'app']),
});

export const historyReplySchema = z.object({
  ...replyBase,
  type: z.literal('history'),
  messages: z.array(messageSchema),
  next: z.nullable(z.string()),
});
export const recentReplySchema = z.object({
  ...replyBase,
  type: z.literal('recent'),
  conversations: z.array(
    z.object({ type: z.enum(['private', 'group']), target: z.string(), lastMessage: messageSchema, updatedAt: z.iso.datetime() }),
  ),
});
export const joinedFrameSchema = z.object({ ...replyBase, type: z.literal('joined'), room: z.string() });
export const leftFrameSchema = z.object({ ...replyBase, type: z.literal('left'), room: z.string() });

export const pongFrameSchema = z.object({ ...replyBase, type: z.literal('pong') });
/** The server is about to close this connection; for `replaced` the client does not reconnect. */
export const closingFrameSchema = z.object({ type: z.literal('closing'), reason: z.enum(['replaced']) });
export const errorFrameSchema = z.object({
  ...replyBase,
  type: z.literal('error'),
  code: z.enum(errorCodes),
  message: z.string(),
  /** With RATE_LIMITED: how long to wait before the next try. */
  retryAfterMs: z.optional(z.number()),
});

export const serverFrameSchema = z.discriminatedUnion('type', [
  messagesFrameSchema,
  drainedFrameSchema,
  sentFrameSchema,
  ackedFrameSchema,
  syncedFrameSchema,
  droppedFrameSchema,
  offlineMessageDurationFrameSchema,
  historyReplySchema,
  recentReplySchema,
  joinedFrameSchema,
  leftFrameSchema,
  pongFrameSchema,
  closingFrameSchema,
  errorFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

/** A reply before its `requestId` is attached. */
export type Reply = DistributiveOmit<ServerFrame, 'requestId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---------------------------------------------------------------------------------------------

/** Any schema of this module. */
export type Schema<Output = unknown> = z.ZodMiniType<Output>;

/** Turns a schema failure into one sentence a person can act on, naming each field. */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      return field ? `${field} ${issue.message}` : issue.message;
    })
    .join('; ');
}
