import { Validations } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * The stack's alarms and the one SNS topic they all notify (output as `AlarmTopicArn`): subscribe an
 * email address or a pager to it after `cdk deploy`.
 */
export class ServiceAlarms extends Construct {
  readonly topic: Topic;
  /** Every alarm made here, for the dashboard's alarm status. */
  readonly raised: Alarm[] = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'Pigeonhole alarms', enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key, and the ' +
        'notifications carry only alarm names and metric values, never user data.',
    });
  }

  /** An alarm, notifying the topic, when the metric reaches `threshold` in any one period. */
  whenAtLeast(id: string, metric: IMetric, threshold: number, description: string): Alarm {
    const alarm = new Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data is no failure: an empty queue publishes nothing for a while.
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.raised.push(alarm);
    return alarm;
  }
}
