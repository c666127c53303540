import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { ClaimResult, SendReceipt, SendReceipts } from '../sending/send-receipts';
import { sendReceiptKey, sendReceiptsTable } from '../tables';

export class DynamoSendReceipts implements SendReceipts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Puts the receipt unless an unexpired one exists; hands that one back when it does. */
  async claim(receipt: SendReceipt, now: Date): Promise<ClaimResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...sendReceiptKey(receipt.senderId, receipt.clientMsgId),
            messageId: receipt.messageId,
            sentAt: receipt.sentAt.toISOString(),
            fingerprint: receipt.fingerprint,
            expiresAt: epochSeconds(receipt.expiresAt),
          },
          // An expired receipt that TTL has not yet deleted no longer counts.
          ConditionExpression: 'attribute_not_exists(#sort) OR #expires <= :now',
          ExpressionAttributeNames: { '#sort': sendReceiptsTable.sortKey, '#expires': sendReceiptsTable.timeToLiveAttribute },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
          // The original receipt comes back with the refusal, so a resend costs no extra read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item;
      const messageId = item?.messageId?.S;
      if (!messageId) throw new Error('a send receipt exists without a message id');
      // Our own receipt: the SDK retried a put whose answer was lost, and the first attempt made it.
      if (messageId === receipt.messageId) return { claimed: true };
      return { claimed: false, messageId, sentAt: new Date(item?.sentAt?.S ?? 0), fingerprint: item?.fingerprint?.S };
    }
  }
}
