import { Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { DestinationConfig, IDestination, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ServiceAlarms } from './alarms';

/**
 * Where Lambda puts a drain event it gave up on (it failed, or waited past its maximum age), and an
 * alarm as soon as one arrives. The messages of a lost drain are still queued, for `sync` and the
 * next connect; the alarm says connections are opening without their queue.
 */
export class DrainFailures extends Construct implements IDestination {
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

  /**
   * As the drain's on-failure destination: Lambda sends there with the drain's own role, which may
   * send and nothing more (SqsDestination's grantSendMessages adds GetQueueAttributes and GetQueueUrl,
   * which nothing calls).
   */
  bind(_scope: Construct, fn: IFunction): DestinationConfig {
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
    return { destination: this.queue.queueArn };
  }
}
