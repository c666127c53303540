/**
 * `POST /v1/messages` (SPEC §7): a message the app's backend sends on a user's behalf, as Tencent IM's
 * REST `sendmsg` with `From_Account` (bots, imports, server-side workflows). It is a client's `send`
 * (lib/sending/send-message.ts), run by the same code with `from` as the sender and no connection of theirs:
 * stored for every recipient before `201`, one id per (`from`, `clientMsgId`) for 24 h (a resend is
 * `200 duplicate`, another message under the same clientMsgId `409 CONFLICT`), pushed to the
 * recipients and to every device of `from`, kept in history and recent conversations, offline events
 * emitted, and for a group only when `from` is a member (`403 FORBIDDEN`).
 */
import * as z from 'zod/mini';
import type { Sender } from '../connecting/connections';
import { BadRequestError } from '../errors';
import { describeIssues, idSchema, sendFrameSchema, type Reply, type SendFrame } from '../protocol';

const fields = sendFrameSchema.shape;

export const backendMessageSchema = z.object({
  from: idSchema,
  type: z.enum(['private', 'group'], { error: "must be 'private' or 'group'" }),
  target: fields.target,
  body: fields.body,
  /** Without one, the request is a message of its own: nothing to match a resend by. */
  clientMsgId: z.optional(fields.clientMsgId),
  ttlSeconds: fields.ttlSeconds,
});

export interface BackendMessageResponse {
  id: string;
  clientMsgId: string;
  status: 'accepted' | 'duplicate';
}

/** The request as the `send` it stands for: always qos 1 (stored), from `from`, on none of their connections. */
export function backendSend(body: unknown, newClientMsgId: () => string): { sender: Sender; frame: SendFrame } {
  const parsed = backendMessageSchema.safeParse(body ?? {});
  if (!parsed.success) throw new BadRequestError(describeIssues(parsed.error));
  const { from, clientMsgId, ttlSeconds, ...message } = parsed.data;
  return {
    sender: { userId: from, byBackend: true },
    frame: {
      action: 'send',
      ...message,
      clientMsgId: clientMsgId ?? newClientMsgId(),
      qos: 1,
      ...(ttlSeconds !== undefined && { ttlSeconds }),
    },
  };
}

/** `201` for a message accepted now, `200` for a resend of one accepted before. */
export function backendSendResult(reply: Reply): { status: number; body: BackendMessageResponse } {
  if (reply.type !== 'sent') throw new Error(`a send answered ${reply.type}`);
  return { status: reply.status === 'accepted' ? 201 : 200, body: { id: reply.id, clientMsgId: reply.clientMsgId, status: reply.status } };
}
