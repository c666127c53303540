/**
 * One id per message (SPEC §5): a send first claims its (sender, clientMsgId) for 24 h, with the id it
 * proposes and the message's fingerprint; only then are copies written, under the claimed id, as
 * idempotent puts. Whoever finds the claim already made (a second device racing, a resend after a lost
 * reply or after INTERNAL, a retry of a function that died half-way) completes the same send under the
 * same id, so no other id can ever exist for the message. The same clientMsgId for a different
 * message is CONFLICT, and stores nothing.
 *
 * The claim is the only write this costs: there is no "complete" mark, because completing again is
 * harmless (every copy is a put of the same item).
 */
import { createHash } from 'node:crypto';
import { ConflictError } from '../errors';

export const receiptLifetimeSeconds = 24 * 60 * 60;

export interface SendReceipt {
  senderId: string;
  clientMsgId: string;
  messageId: string;
  sentAt: Date;
  expiresAt: Date;
  /** What the message is (type, target, body): a resend must match it. */
  fingerprint: string;
}

/** The claim was made now, or it stands for an earlier send of (sender, clientMsgId). */
export type ClaimResult =
  | { claimed: true }
  | { claimed: false; messageId: string; sentAt: Date; fingerprint: string | undefined };

export interface SendReceipts {
  /** Records the receipt unless an unexpired one for this sender and clientMsgId exists: then it hands that one back. */
  claim(receipt: SendReceipt, now: Date): Promise<ClaimResult>;
}

/** What makes two sends the same message: type, target and body (SPEC §4 CONFLICT). */
export function fingerprintOf(type: string, target: string | readonly string[], bodyJson: string): string {
  const targetKey = typeof target === 'string' ? target : [...new Set(target)].sort().join(',');
  return createHash('sha256').update(JSON.stringify([type, targetKey, bodyJson])).digest('base64url').slice(0, 22);
}

export interface MessageIdentity {
  id: string;
  sentAt: Date;
  /** True when the claim was already made: this send completes an earlier one, and is answered `duplicate`. */
  resend: boolean;
}

/**
 * Claims (sender, clientMsgId) for a new message with the proposed id, or finds the message it
 * already stands for. Throws CONFLICT when that is a different message.
 */
export async function claimMessageId(
  receipts: SendReceipts,
  claim: { senderId: string; clientMsgId: string; fingerprint: string },
  proposed: { id: string; sentAt: Date },
): Promise<MessageIdentity> {
  const expiresAt = new Date(proposed.sentAt.getTime() + receiptLifetimeSeconds * 1000);
  const result = await receipts.claim({ ...claim, messageId: proposed.id, sentAt: proposed.sentAt, expiresAt }, proposed.sentAt);
  if (result.claimed) return { ...proposed, resend: false };
  // Receipts written before fingerprints existed match anything: they were honoured that way.
  if (result.fingerprint !== undefined && result.fingerprint !== claim.fingerprint) {
    throw new ConflictError(
      `clientMsgId '${claim.clientMsgId}' was used within the last 24 hours for another message (type, target or body differ)`,
    );
  }
  return { id: result.messageId, sentAt: result.sentAt, resend: true };
}
