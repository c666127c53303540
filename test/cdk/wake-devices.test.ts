/** The README's example of a rule on the offline events' bus (examples/offline-push): it synthesizes, and matches what Pigeonhole puts. */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { WakeDevices } from '../../examples/offline-push/wake-devices';
import { offlineEventDetailType, offlineEventSource } from '../../lib/events/offline-events';

describe('the SNS mobile push example', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'App');
  const deviceEndpoints = new TableV2(stack, 'DeviceEndpoints', { partitionKey: { name: 'userId', type: AttributeType.STRING } });
  const busArn = 'arn:aws:events:eu-west-1:111111111111:event-bus/PigeonholeOfflineEventsBus';
  new WakeDevices(stack, 'WakeDevices', { eventBusArn: busArn, deviceEndpoints });
  const template = Template.fromStack(stack);

  it('sends every OfflineMessageStored event on Pigeonhole’s bus to the push function, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'PigeonholeOfflineEventsBus',
      EventPattern: { source: [offlineEventSource], 'detail-type': [offlineEventDetailType] },
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 900 }, DeadLetterConfig: Match.anyValue() })],
    });
    expect(offlineEventSource).toBe('pigeonhole');
  });

  it('lets the push function read the device table and publish to SNS platform endpoints only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: Array<{ Action: unknown; Resource: unknown }> } } }).Properties.PolicyDocument.Statement,
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: 'arn:aws:sns:*:*:endpoint/*' }));
    template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs22.x', Environment: { Variables: { DEVICE_ENDPOINTS_TABLE: Match.anyValue() } } });
  });
});
