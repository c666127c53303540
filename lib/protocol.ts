/**
 * The wire protocol (SPEC §4): one schema per frame, shared by the handlers that read client frames,
 * the code that builds server frames, and every client (the tests included) that reads them.
 */
import { z } from 'zod';

export const limits = {
  /** User, group and room ids. */
  idMaxChars: 128,
  requestIdMaxChars: 64,
  clientMsgIdMaxChars: 64,
  /** A message body, serialized as JSON. */
  bodyMaxBytes: 64 * 1024,
  /** API Gateway closes a connection that sends a larger message (code 1009). */
  inboundMessageMaxBytes: 128 * 1024,
  /** API Gateway's WebSocket frame size: pushes are packed up to this. */
  outboundFrameMaxBytes: 32 * 1024,
  ackMaxIds: 100,
} as const;

const idPattern = /^[A-Za-z0-9_.@:-]+$/;

/** User, group, room and device ids: 1–128 chars of `[A-Za-z0-9_.@:-]`. */
export const idSchema = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(limits.idMaxChars, { error: `must be at most ${limits.idMaxChars} characters` })
  .regex(idPattern, { error: 'may only contain letters, digits and _ . @ : -' });

export const userIdSchema = idSchema;

export const requestIdSchema = z
  .string({ error: 'must be a string' })
  .max(limits.requestIdMaxChars, { error: `must be at most ${limits.requestIdMaxChars} characters` });

// ---------------------------------------------------------------------------------------------
// Connecting (SPEC §3): the query string of the WebSocket upgrade.

export const connectQuerySchema = z.object({
  deviceId: idSchema.optional(),
  cleanStart: z.enum(['true', 'false'], { error: "must be 'true' or 'false'" }).optional(),
});
export type ConnectQuery = z.infer<typeof connectQuerySchema>;

// ---------------------------------------------------------------------------------------------
// Client → server frames. Unknown fields are ignored, so older servers accept newer clients.

const frameBase = { requestId: requestIdSchema.optional() };

/** What API Gateway routes on (`$request.body.action`); a frame without it is malformed. */
export const anyClientFrameSchema = z.object({
  ...frameBase,
  action: z.string({ error: 'is required and must be a string' }),
});

export const pingFrameSchema = z.object({ ...frameBase, action: z.literal('ping') });
export type PingFrame = z.infer<typeof pingFrameSchema>;

// ---------------------------------------------------------------------------------------------
// Server → client frames.

export const errorCodes = [
  'BAD_REQUEST',
  'UNKNOWN_ACTION',
  'FORBIDDEN',
  'OUT_OF_RANGE',
  'TOO_LARGE',
  'RATE_LIMITED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

const replyBase = { requestId: requestIdSchema.optional() };

export const pongFrameSchema = z.object({ ...replyBase, type: z.literal('pong') });
export const errorFrameSchema = z.object({
  ...replyBase,
  type: z.literal('error'),
  code: z.enum(errorCodes),
  message: z.string(),
});

export const serverFrameSchema = z.discriminatedUnion('type', [pongFrameSchema, errorFrameSchema]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;

/** A reply before its `requestId` is attached. */
export type Reply = DistributiveOmit<ServerFrame, 'requestId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---------------------------------------------------------------------------------------------

/** Turns a schema failure into one sentence a person can act on, naming the field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      return field ? `${field} ${issue.message}` : issue.message;
    })
    .join('; ');
}
