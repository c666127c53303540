import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { functionCatalog, httpFunctions, routeFunctions, type FunctionDeclaration, type FunctionName } from '../functions/catalog';
import { AdminApi } from './admin-api';
import { ServiceAlarms } from './alarms';
import { DrainFailures } from './drain-failures';
import { ServiceMonitoring } from './monitoring';
import { OfflineEventBus } from './offline-event-bus';
import { assertLocalEsbuild, ServiceFunction } from './service-function';
import { FanOutQueue } from './fan-out-queue';
import { reservedConcurrency, reservedConcurrencyContextKey } from './protection';
import { ServiceTables } from './service-tables';
import { ServiceWebSocketApi } from './websocket-api';

export interface PigeonholeStackProps extends StackProps {
  /** The WebSocket stage, the last segment of the URL. */
  stageName?: string;
  /** Steady-state requests per second across the stage, and the burst above it. */
  throttle?: { rateLimit: number; burstLimit: number };
  logRetention?: RetentionDays;
  /**
   * Powertools Tracer and active X-Ray tracing on the send and drain functions. Off unless given, or
   * unless the app is synthesized with `-c tracing=true` (`npx cdk deploy -c tracing=true`).
   */
  tracing?: boolean;
}

/** The whole service on AWS: WebSocket API, functions, tables, the token secret, the offline events' bus, alarms and a dashboard. */
export class PigeonholeStack extends Stack {
  constructor(scope: Construct, id: string, props: PigeonholeStackProps = {}) {
    super(scope, id, props);
    assertLocalEsbuild();
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    const tables = new ServiceTables(this, 'Tables');
    const tokenSecret = new Secret(this, 'TokenSecret', {
      description: 'Signs and verifies Pigeonhole client tokens (HS256).',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the signing secret invalidates every outstanding client token at once; rotate it by hand ' +
        'when clients can re-fetch tokens. Functions re-read it every five minutes.',
    });

    const fanOutJobs = new FanOutQueue(this, 'FanOut');
    const offlineEvents = new OfflineEventBus(this, 'OfflineEvents');
    const tracing = props.tracing ?? [true, 'true'].includes(this.node.tryGetContext('tracing') as boolean | string);

    const reserved = reservedConcurrency(this.node.tryGetContext(reservedConcurrencyContextKey));
    const functions = new Map<FunctionName, ServiceFunction>();
    for (const [name, declaration] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>) {
      // Suffixed: CDK leaves a construct named 'Default' out of logical ids.
      const service = new ServiceFunction(this, `${pascalCase(name)}Handler`, {
        declaration,
        logRetention,
        timeout: Duration.seconds(declaration.timeoutSeconds ?? 29),
        tracing: tracing && Boolean(declaration.traced),
        ...(reserved.has(name) && { reservedConcurrency: reserved.get(name) }),
      });
      for (const access of declaration.tables ?? []) service.useTable(tables.get(access.table), access);
      if (declaration.fanOutJobs) service.useFanOutQueue(fanOutJobs, declaration.fanOutJobs);
      if (declaration.tokenSecret) service.useTokenSecret(tokenSecret);
      if (declaration.readsMetrics) service.readMetrics(fanOutJobs.queue);
      if (declaration.offlineEvents) service.putOfflineEvents(offlineEvents.bus);
      functions.set(name, service);
    }
    const fn = (name: FunctionName) => {
      const service = functions.get(name);
      if (!service) throw new Error(`function ${name} is not in the catalog`);
      return service.fn;
    };

    const webSocket = new ServiceWebSocketApi(this, 'WebSocket', {
      stageName: props.stageName ?? 'live',
      authorizer: fn('authorizer'),
      routes: routeFunctions().map(([name, declaration]) => ({
        route: declaration.route,
        fn: fn(name),
        replies: declaration.replies ?? false,
        ...(declaration.throttle && { throttle: declaration.throttle }),
      })),
      throttle: props.throttle ?? { rateLimit: 500, burstLimit: 1000 },
      logRetention,
    });

    for (const [name, declaration] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>) {
      const service = functions.get(name);
      if (declaration.connections) service?.manageConnections(webSocket.api, webSocket.stage, declaration.connections);
      for (const target of declaration.invokes ?? []) {
        const invoked = functions.get(target as FunctionName);
        if (!invoked) throw new Error(`${name} invokes ${target}, which is not in the catalog`);
        service?.invoke(target, invoked);
      }
    }
    const alarms = new ServiceAlarms(this, 'Alarms');
    const drainFailures = new DrainFailures(this, 'DrainFailures', alarms);
    // A drain that fails is not retried: its messages stay queued for `sync` and the next connect, and
    // a retry a minute later would find the connection long gone. Lambda would still hold an event it
    // cannot run (throttled) for up to six hours; past a minute it goes to the failure queue instead,
    // whose alarm says drains are being lost.
    functions.get('drain')?.fn.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: drainMaxEventAge,
      onFailure: drainFailures,
    });

    const admin = new AdminApi(this, 'Admin', {
      routes: httpFunctions().map(([name, declaration]) => ({ ...declaration.http, fn: fn(name) })),
      logRetention,
    });

    const monitoring = new ServiceMonitoring(this, 'Monitoring', {
      alarms,
      functions: [...functions].map(([name, service]) => [name, service.fn]),
      webSocket,
      adminApi: admin.api,
      tables: tables.entries(),
      fanOut: fanOutJobs,
      drainFailures: drainFailures.queue,
    });

    new CfnOutput(this, 'WebSocketUrl', {
      description: 'Connect clients here, with ?token=<token>',
      value: webSocket.stage.url,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Every alarm of the service notifies this SNS topic: subscribe to it',
      value: alarms.topic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: "The service's CloudWatch dashboard (CloudWatch console, Dashboards)",
      value: monitoring.dashboard.dashboardName,
    });
    new CfnOutput(this, 'AdminApiUrl', {
      description: 'The admin API (SigV4-signed requests; `npx pigeonhole --endpoint <this>`)',
      value: admin.url,
    });
  }
}

/** The shortest Lambda allows: a drain event older than this would deliver to a connection long changed. */
const drainMaxEventAge = Duration.seconds(60);

function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
