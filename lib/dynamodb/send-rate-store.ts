import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds } from '../clock';
import type { BucketState, SendRateStore } from '../sending/send-rate';
import { sendRateKey, sendRatesTable } from '../tables';

/**
 * The send-rate buckets (see lib/sending/send-rate.ts): each change is one conditional UpdateItem on a small
 * item, with no read before it; a refusal hands the bucket back (ReturnValuesOnConditionCheckFailure),
 * so the next try is made on what is there rather than on a guess.
 */
export class DynamoSendRateStore implements SendRateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async startFull(userId: string, tat: number, now: number, expiresAt: Date): Promise<BucketState> {
    return this.update(userId, {
      UpdateExpression: 'SET tat = :tat, #expires = :expires',
      ConditionExpression: 'attribute_not_exists(tat) OR tat <= :now',
      ExpressionAttributeValues: { ':tat': tat, ':now': now, ':expires': epochSeconds(expiresAt) },
    });
  }

  async extend(userId: string, by: number, now: number, limit: number, expiresAt: Date): Promise<BucketState> {
    return this.update(userId, {
      UpdateExpression: 'SET tat = tat + :by, #expires = :expires',
      ConditionExpression: 'tat > :now AND tat <= :limit',
      ExpressionAttributeValues: { ':by': by, ':now': now, ':limit': limit, ':expires': epochSeconds(expiresAt) },
    });
  }

  private async update(
    userId: string,
    input: { UpdateExpression: string; ConditionExpression: string; ExpressionAttributeValues: Record<string, number> },
  ): Promise<BucketState> {
    try {
      const result = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: sendRateKey(userId),
          ...input,
          ExpressionAttributeNames: { '#expires': sendRatesTable.timeToLiveAttribute },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { written: true, tat: Number(result.Attributes?.tat) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // The item comes back unconverted: { tat: { N: "…" } }, or nothing when there is none.
      const tat = error.Item?.tat?.N;
      return { written: false, tat: tat === undefined ? undefined : Number(tat) };
    }
  }
}
