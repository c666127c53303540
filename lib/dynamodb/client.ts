import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A document client for the table stores. `DYNAMODB_ENDPOINT` points it at DynamoDB Local or any
 * other DynamoDB; unset, the SDK's regional endpoint is used, as on Lambda.
 */
export function createDocumentClient(
  endpoint = process.env.DYNAMODB_ENDPOINT,
  prepare: (client: DynamoDBClient) => DynamoDBClient = (client) => client,
): DynamoDBDocumentClient {
  // Plugins go on the base client before the document client copies its middleware.
  const client = prepare(new DynamoDBClient(endpoint ? { endpoint } : {}));
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
