/**
 * Send receipts make `send` idempotent: a resend with the same sender and clientMsgId within 24 h
 * gets the original message id back, and nothing new is stored.
 */
export const receiptLifetimeSeconds = 24 * 60 * 60;

export interface SendReceipt {
  senderId: string;
  clientMsgId: string;
  messageId: string;
  expiresAt: Date;
}

export type ClaimResult = { claimed: true } | { claimed: false; messageId: string };

export interface SendReceipts {
  /** Records the receipt, unless an unexpired one for this sender and clientMsgId exists: then it says whose. */
  claim(receipt: SendReceipt, now: Date): Promise<ClaimResult>;
}
