import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How long the fan-out worker may run on one job; SQS hides a job six times that while it works. */
export const fanOutWorkerTimeout = Duration.seconds(60);

/**
 * Fan-out jobs past what one send should do (SPEC §6: 1,000 recipients a job). A job that fails five
 * times moves to the dead-letter queue, to be looked at and redriven.
 */
export class FanOutQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const deadLetters = (this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    }));
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the fan-out queue: failed jobs end here, to be inspected and redriven.',
    });
    this.queue = new Queue(this, 'Jobs', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(fanOutWorkerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 5 },
    });
  }
}
