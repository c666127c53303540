/**
 * Send receipts make `send` idempotent: a resend with the same sender and clientMsgId within 24 h
 * gets the original message id back, and nothing new is stored.
 */
export const receiptLifetimeSeconds = 24 * 60 * 60;

export interface SendReceipt {
  senderId: string;
  clientMsgId: string;
  messageId: string;
  sentAt: Date;
  expiresAt: Date;
}

export type ClaimResult = { claimed: true } | { claimed: false; messageId: string };

/**
 * A receipt claimed before a fan-out: until it is complete, a resend is the same send, to be finished
 * with the same id, not a duplicate of one that may never have reached anyone.
 */
export type PendingClaimResult =
  | { claimed: true }
  | { claimed: false; messageId: string; sentAt: Date; complete: boolean };

export interface SendReceipts {
  /** Records a complete receipt, unless an unexpired one for this sender and clientMsgId exists: then it says whose. */
  claim(receipt: SendReceipt, now: Date): Promise<ClaimResult>;
  /** Records a pending receipt, unless one exists: then it says whose, and whether that send completed. */
  claimPending(receipt: SendReceipt, now: Date): Promise<PendingClaimResult>;
  complete(senderId: string, clientMsgId: string): Promise<void>;
}

export function receiptFor(senderId: string, clientMsgId: string, messageId: string, sentAt: Date): SendReceipt {
  return { senderId, clientMsgId, messageId, sentAt, expiresAt: new Date(sentAt.getTime() + receiptLifetimeSeconds * 1000) };
}
