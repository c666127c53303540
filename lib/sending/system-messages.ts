/**
 * System messages (SPEC §2, §7): from the app's backend, through the admin API, to a list of users;
 * stored offline like private messages, `type: system`, `from: "system"`.
 */
import * as z from 'zod/mini';
import { BadRequestError, TooLargeError } from '../errors';
import { fanOut, type FanOutDeps, type FanOutQueue } from './fan-out';
import { bodySchema, describeIssues, idSchema, limits } from '../protocol';
import { claimMessageId, fingerprintOf, type SendReceipts } from './send-receipts';
import type { MessageDraft } from '../messages';

/** Up to this many recipients a request; past the inline fan-out they go through the queue. */
export const maxSystemRecipients = 10_000;

/** Receipts for system messages are kept under a sender no user can be: `#` is not allowed in ids. */
const systemSender = '#system';

export const systemMessageSchema = z.object({
  to: z
    .array(idSchema, { error: 'must be an array of user ids' })
    .check(
      z.minLength(1, { error: 'must name at least one user' }),
      z.maxLength(maxSystemRecipients, { error: `may name at most ${maxSystemRecipients} users` }),
    ),
  body: bodySchema,
  clientMsgId: z.optional(
    z.string({ error: 'must be a string' }).check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(limits.clientMsgIdMaxChars)),
  ),
  ttlSeconds: z.optional(z.int({ error: 'must be a whole number of seconds' }).check(z.gte(1, { error: 'must be at least 1' }))),
});

export interface SystemMessageResponse {
  id: string;
  status: 'accepted' | 'duplicate';
  recipients: number;
}

export async function sendSystemMessage(
  deps: FanOutDeps & { receipts: SendReceipts; jobs: FanOutQueue; newId: (at: Date) => string },
  body: unknown,
): Promise<SystemMessageResponse> {
  const parsed = systemMessageSchema.safeParse(body ?? {});
  if (!parsed.success) throw new BadRequestError(describeIssues(parsed.error));
  const request = parsed.data;
  const bodyJson = JSON.stringify(request.body);
  if (Buffer.byteLength(bodyJson) > limits.bodyMaxBytes) throw new TooLargeError(`body is larger than ${limits.bodyMaxBytes / 1024} KB once serialized`);
  const recipients = [...new Set(request.to)];

  const now = deps.clock.now();
  const proposed = { id: deps.newId(now), sentAt: now };
  // Without a clientMsgId the backend asked for no de-duplication: each request is its own message.
  const { id, sentAt, resend } =
    request.clientMsgId === undefined
      ? { ...proposed, resend: false }
      : await claimMessageId(
          deps.receipts,
          { senderId: systemSender, clientMsgId: request.clientMsgId, fingerprint: fingerprintOf('system', recipients, bodyJson) },
          proposed,
        );
  const draft: MessageDraft = {
    id,
    type: 'system',
    from: 'system',
    to: '',
    bodyJson,
    sentAt,
    ...(request.ttlSeconds !== undefined && { ttlSeconds: request.ttlSeconds }),
  };
  await fanOut(deps, draft, recipients);
  return { id, status: resend ? 'duplicate' : 'accepted', recipients: recipients.length };
}
