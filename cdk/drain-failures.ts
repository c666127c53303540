import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ServiceAlarms } from './alarms';

/**
 * Where Lambda puts a drain event it gave up on (it failed, or waited past its maximum age), and an
 * alarm as soon as one arrives. The messages of a lost drain are still queued, for `sync` and the
 * next connect; the alarm says connections are opening without their queue.
 */
export class DrainFailures extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string, alarms: ServiceAlarms) {
    super(scope, id);
    this.queue = new Queue(this, 'Events', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the failure destination of the drain: failed drain events end here, to be inspected.',
    });
    alarms.whenAtLeast(
      'DrainFailed',
      this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      1,
      'A drain event failed or expired: a connection opened without its offline queue (it stays stored for sync and the next connect).',
    );
  }
}
