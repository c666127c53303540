import { CfnOutput } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';

/**
 * The bus that `OfflineMessageStored` events go to (SPEC §12): `source: "pigeonhole"`,
 * `detail-type: "OfflineMessageStored"`. The app adds its own rules to it (SNS mobile push, an API
 * destination, SQS); with none, events are dropped, as EventBridge drops what no rule matches.
 * Its name and ARN are outputs, for rules in other stacks.
 */
export class OfflineEventBus extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Pigeonhole OfflineMessageStored events: a message waits for a user with no open connection' });
    new CfnOutput(scope, 'OfflineEventBusName', { description: 'OfflineMessageStored events are put on this EventBridge bus', value: this.bus.eventBusName });
    new CfnOutput(scope, 'OfflineEventBusArn', { description: 'The ARN of that bus, for rules and cross-account targets', value: this.bus.eventBusArn });
  }
}
