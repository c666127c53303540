import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { ClaimResult, PendingClaimResult, SendReceipt, SendReceipts } from '../send-receipts';
import { sendReceiptKey, sendReceiptsTable } from '../tables';

export class DynamoSendReceipts implements SendReceipts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(receipt: SendReceipt, now: Date): Promise<ClaimResult> {
    const existing = await this.put(receipt, now, false);
    return existing ? { claimed: false, messageId: existing.messageId } : { claimed: true };
  }

  async claimPending(receipt: SendReceipt, now: Date): Promise<PendingClaimResult> {
    const existing = await this.put(receipt, now, true);
    return existing ? { claimed: false, ...existing } : { claimed: true };
  }

  async complete(senderId: string, clientMsgId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({ TableName: this.tableName, Key: sendReceiptKey(senderId, clientMsgId), UpdateExpression: 'REMOVE pending' }),
    );
  }

  /** Puts the receipt unless an unexpired one exists; resolves to that one when it does. */
  private async put(
    receipt: SendReceipt,
    now: Date,
    pending: boolean,
  ): Promise<{ messageId: string; sentAt: Date; complete: boolean } | undefined> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...sendReceiptKey(receipt.senderId, receipt.clientMsgId),
            messageId: receipt.messageId,
            sentAt: receipt.sentAt.toISOString(),
            expiresAt: epochSeconds(receipt.expiresAt),
            ...(pending && { pending: true }),
          },
          // An expired receipt that TTL has not yet deleted no longer counts.
          ConditionExpression: 'attribute_not_exists(#sort) OR #expires <= :now',
          ExpressionAttributeNames: { '#sort': sendReceiptsTable.sortKey, '#expires': sendReceiptsTable.timeToLiveAttribute },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
          // The original receipt comes back with the refusal, so a duplicate costs no extra read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const item = error.Item;
      const messageId = item?.messageId?.S;
      if (!messageId) throw new Error('a send receipt exists without a message id');
      // Our own receipt: the SDK retried a put whose answer was lost, and the first attempt made it.
      if (messageId === receipt.messageId) return undefined;
      return { messageId, sentAt: new Date(item?.sentAt?.S ?? 0), complete: item?.pending === undefined };
    }
  }
}
