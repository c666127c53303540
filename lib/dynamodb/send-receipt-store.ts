import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { ClaimResult, SendReceipt, SendReceipts } from '../send-receipts';
import { sendReceiptKey, sendReceiptsTable } from '../tables';

export class DynamoSendReceipts implements SendReceipts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(receipt: SendReceipt, now: Date): Promise<ClaimResult> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...sendReceiptKey(receipt.senderId, receipt.clientMsgId),
            messageId: receipt.messageId,
            expiresAt: epochSeconds(receipt.expiresAt),
          },
          // An expired receipt that TTL has not yet deleted no longer counts.
          ConditionExpression: 'attribute_not_exists(#sort) OR #expires <= :now',
          ExpressionAttributeNames: { '#sort': sendReceiptsTable.sortKey, '#expires': sendReceiptsTable.timeToLiveAttribute },
          ExpressionAttributeValues: { ':now': epochSeconds(now) },
          // The original receipt comes back with the refusal, so a duplicate costs no extra read.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const original = error.Item?.messageId?.S;
      if (!original) throw new Error('a send receipt exists without a message id');
      return { claimed: false, messageId: original };
    }
  }
}
