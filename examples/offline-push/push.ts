/**
 * The example's push function: one `OfflineMessageStored` event in (EventBridge invokes it once per
 * event), a notification to each of the user's device endpoints out. It says only that something
 * waits, and from whom: the message itself comes over the WebSocket when the app connects.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EndpointDisabledException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';
import type { OfflineMessageStored } from '../../lib/events/offline-events';

const dynamodb = new DynamoDBClient({});
const sns = new SNSClient({});
const table = process.env.DEVICE_ENDPOINTS_TABLE;

export async function handler(event: EventBridgeEvent<'OfflineMessageStored', OfflineMessageStored>): Promise<void> {
  const { userId, messageId, from, type, target } = event.detail;
  const item = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { userId: { S: userId } }, ProjectionExpression: 'endpointArns' }));
  const endpoints = item.Item?.endpointArns?.SS ?? [];
  const alert = type === 'group' ? `New message from ${from} in ${target}` : `New message from ${from}`;
  // APNs and FCM payloads side by side: SNS sends each endpoint the one for its platform.
  const message = JSON.stringify({
    default: alert,
    APNS: JSON.stringify({ aps: { alert, sound: 'default', 'thread-id': target }, messageId }),
    GCM: JSON.stringify({ notification: { title: alert }, data: { messageId, from, target } }),
  });
  await Promise.all(
    endpoints.map(async (TargetArn) => {
      try {
        await sns.send(new PublishCommand({ TargetArn, Message: message, MessageStructure: 'json' }));
      } catch (error) {
        // The device uninstalled the app or its token expired: the app's registration flow refreshes it.
        if (!(error instanceof EndpointDisabledException)) throw error;
      }
    }),
  );
}
