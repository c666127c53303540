import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { droppedReasons } from '../lib/protocol';
import { metricOf, statsNamespace, statsService, type StatName } from '../lib/admin/stats';
import type { ServiceAlarms } from './alarms';

const period = Duration.minutes(5);

export interface MonitoringProps {
  alarms: ServiceAlarms;
  /** Every function of the catalog, by its catalog name. */
  functions: ReadonlyArray<[string, IFunction]>;
  webSocket: { api: WebSocketApi; stage: WebSocketStage };
  adminApi: HttpApi;
  tables: ReadonlyArray<[string, ITableV2]>;
  fanOut: { queue: IQueue; deadLetters: IQueue };
  /** The drain's failure queue, which already has its alarm (cdk/drain-failures.ts). */
  drainFailures: IQueue;
}

/** A metric the functions emit (lib/admin/stats.ts names them), summed unless told otherwise. */
export function serviceMetric(name: StatName, statistic = 'Sum', label?: string): Metric {
  const { metricName, dimensions } = metricOf(name);
  return new Metric({
    namespace: statsNamespace,
    metricName,
    dimensionsMap: { service: statsService, ...dimensions },
    statistic,
    period,
    ...(label !== undefined && { label }),
  });
}

/**
 * What an operator watches: an alarm, to the alarm topic, for everything that means messages are
 * not getting through (a fan-out job dead-lettered, a function failing or throttled, the APIs
 * answering 5xx, DynamoDB throttling, offline events dropped; the drain's failures alarm on their
 * own queue), and a dashboard of the service's metrics (SPEC §7's counters and the rest).
 */
export class ServiceMonitoring extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { alarms } = props;

    alarms.whenAtLeast(
      'FanOutDeadLettered',
      props.fanOut.deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      1,
      'A fan-out job failed five times and is in the dead-letter queue: recipients past the first 1,000 of a message its sender saw accepted do not have it. Fix the cause, then `npx pigeonhole fan-out redrive`.',
    );

    for (const [name, fn] of props.functions) {
      const throttles = fn.metricThrottles({ period, statistic: 'Sum' });
      // The authorizer refuses a bad token by throwing `Unauthorized` (API Gateway's contract), which
      // Lambda counts as an error: anyone could raise that alarm. Its real failures are 500s at the upgrade.
      const metric =
        name === 'authorizer'
          ? throttles
          : new MathExpression({ expression: 'errors + throttles', usingMetrics: { errors: fn.metricErrors({ period, statistic: 'Sum' }), throttles }, period });
      alarms.whenAtLeast(`${pascal(name)}FailedOrThrottled`, metric, 1, `The ${name} function failed or was throttled (Lambda Errors + Throttles).`);
    }

    const webSocketErrors = (metricName: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: props.webSocket.api.apiId, Stage: props.webSocket.stage.stageName },
        statistic: 'Sum',
        period,
      });
    alarms.whenAtLeast(
      'WebSocketApiErrors',
      new MathExpression({
        expression: 'execution + integration',
        usingMetrics: { execution: webSocketErrors('ExecutionError'), integration: webSocketErrors('IntegrationError') },
        period,
      }),
      1,
      'The WebSocket API could not run a route, or a route function answered an error (ExecutionError + IntegrationError): its 5xx.',
    );
    const adminServerErrors = props.adminApi.metricServerError({ period, statistic: 'Sum' });
    alarms.whenAtLeast('AdminApi5xx', adminServerErrors, 1, 'The admin API answered 5xx.');

    for (const [name, table] of props.tables) {
      alarms.whenAtLeast(
        `${name}Throttled`,
        new MathExpression({
          expression: 'reads + writes',
          usingMetrics: {
            reads: table.metric('ReadThrottleEvents', { period, statistic: 'Sum' }),
            writes: table.metric('WriteThrottleEvents', { period, statistic: 'Sum' }),
          },
          period,
        }),
        1,
        `DynamoDB throttled requests to the ${name} table (ReadThrottleEvents + WriteThrottleEvents).`,
      );
    }

    alarms.whenAtLeast(
      'OfflineEventsDropped',
      serviceMetric('offlineEventsFailed'),
      1,
      'OfflineMessageStored events could not be put on the event bus and were dropped: some devices were not woken (their messages are stored).',
    );

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    const graph = (title: string, left: IMetric[], right: IMetric[] = [], width = 8) => new GraphWidget({ title, left, right, width, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# Pigeonhole (${Stack.of(this).stackName})\n` +
          'Counters from the functions (namespace `Pigeonhole`, Embedded Metric Format). Messages are `accepted` once stored for every recipient; a push is not a delivery, a drain or sync is; an ack removes.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Messages', (['messagesAccepted', 'messagesStored', 'messagesPushed', 'messagesDelivered', 'messagesAcked'] as const).map((name) => serviceMetric(name))),
      graph('Sends answered otherwise', (['messagesDuplicate', 'messagesConflict', 'messagesRateLimited'] as const).map((name) => serviceMetric(name))),
      graph('Dropped, by reason', [
        ...droppedReasons.map((reason) => serviceMetric(`messagesDropped.${reason}`, 'Sum', reason)),
        serviceMetric('messagesExpiredSkipped', 'Sum', 'expired by time (of expired)'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Drains',
        [serviceMetric('drains'), serviceMetric('drainSize', 'Average', 'messages a drain (average)'), serviceMetric('drainSize', 'p99', 'messages a drain (p99)')],
        [serviceMetric('drainDurationMs', 'p50', 'duration ms (p50)'), serviceMetric('drainDurationMs', 'p99', 'duration ms (p99)')],
      ),
      graph('Offline events', [serviceMetric('offlineEventsEmitted'), serviceMetric('offlineEventsFailed')]),
      graph(
        'Fan-out backlog',
        [
          props.fanOut.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'jobs waiting' }),
          props.fanOut.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum', label: 'jobs being worked on' }),
          props.fanOut.deadLetters.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'dead-lettered' }),
          props.drainFailures.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'drains failed' }),
        ],
        [serviceMetric('fanOutJobWaitMs', 'p99', 'job wait ms (p99)')],
      ),
    );
    this.dashboard.addWidgets(
      graph('Function errors', props.functions.map(([name, fn]) => fn.metricErrors({ period, statistic: 'Sum', label: name }))),
      graph('Function throttles', props.functions.map(([name, fn]) => fn.metricThrottles({ period, statistic: 'Sum', label: name }))),
      graph('API errors and connections', [
        webSocketErrors('ExecutionError').with({ label: 'WebSocket ExecutionError' }),
        webSocketErrors('IntegrationError').with({ label: 'WebSocket IntegrationError' }),
        adminServerErrors.with({ label: 'admin API 5xx' }),
      ], [serviceMetric('connectionsOpened'), serviceMetric('connectionsClosed')]),
    );
    this.dashboard.addWidgets(
      graph(
        'DynamoDB throttle events',
        props.tables.flatMap(([name, table]) => [
          table.metric('ReadThrottleEvents', { period, statistic: 'Sum', label: `${name} reads` }),
          table.metric('WriteThrottleEvents', { period, statistic: 'Sum', label: `${name} writes` }),
        ]),
        [],
        12,
      ),
      new AlarmStatusWidget({ title: 'Alarms', alarms: alarms.raised, width: 12, height: 6 }),
    );
  }
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
