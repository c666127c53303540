/**
 * An example of what an app adds to Pigeonhole's event bus (SPEC §12): a rule that sends every
 * `OfflineMessageStored` event to a function that wakes the user's devices with SNS mobile push
 * (APNs, FCM). The app keeps its users' device endpoints (SNS platform endpoint ARNs, created when a
 * device registers its push token) in a table of its own; Pigeonhole knows nothing of devices.
 *
 * In the app's own CDK stack:
 *
 *   new WakeDevices(this, 'WakeDevices', {
 *     eventBusArn: 'arn:aws:events:…:event-bus/…',   // Pigeonhole's OfflineEventBusArn output
 *     deviceEndpoints,                                 // the app's table: userId → endpointArns
 *   });
 */
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WakeDevicesProps {
  /** Pigeonhole's bus: its `OfflineEventBusArn` output. */
  eventBusArn: string;
  /** The app's table of device endpoints: partition key `userId`, attribute `endpointArns` (a string set). */
  deviceEndpoints: ITableV2;
}

export class WakeDevices extends Construct {
  readonly rule: Rule;
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: WakeDevicesProps) {
    super(scope, id);
    this.fn = new NodejsFunction(this, 'Push', {
      entry: new URL('./push.ts', import.meta.url).pathname,
      runtime: Runtime.NODEJS_22_X,
      timeout: Duration.seconds(10),
      environment: { DEVICE_ENDPOINTS_TABLE: props.deviceEndpoints.tableName },
    });
    props.deviceEndpoints.grantReadData(this.fn);
    // Publishing to a platform endpoint (`arn:aws:sns:<region>:<account>:endpoint/<platform>/<app>/<id>`).
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: ['arn:aws:sns:*:*:endpoint/*'] }));

    this.rule = new Rule(this, 'OfflineMessageStored', {
      eventBus: EventBus.fromEventBusArn(this, 'PigeonholeBus', props.eventBusArn),
      eventPattern: { source: ['pigeonhole'], detailType: ['OfflineMessageStored'] },
      targets: [
        new LambdaFunction(this.fn, {
          // EventBridge retries a failing target; what still fails waits here to be looked at.
          deadLetterQueue: new Queue(this, 'Undelivered', { enforceSSL: true }),
          maxEventAge: Duration.minutes(15),
          retryAttempts: 4,
        }),
      ],
    });
  }
}
