import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { bundling } from './bundling';
import {
  connectionsEndpointEnvVar,
  fanOutDeadLettersArnEnvVar,
  fanOutQueueNameEnvVar,
  fanOutQueueUrlEnvVar,
  functionNameEnvVar,
  offlineEventBusEnvVar,
  tracingEnvVar,
  type ConnectionMethod,
  type FunctionDeclaration,
  type TableAccess,
  type TableAction,
} from '../functions/catalog';

const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServiceFunctionProps {
  declaration: FunctionDeclaration;
  timeout?: Duration;
  logRetention: RetentionDays;
  /** Active X-Ray tracing and Powertools Tracer, for a function whose declaration is `traced`. */
  tracing?: boolean;
  /** Concurrency kept for this function alone, and the most it may use (see cdk/protection.ts). */
  reservedConcurrency?: number;
}

/**
 * One Lambda function of the service: bundled by local esbuild (no Docker), minified ESM with source
 * maps, arm64 on Node.js 22, its own log group with a retention, and a role that starts empty and gains
 * exactly what the function is granted.
 */
export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Not AWSLambdaBasicExecutionRole: that managed policy may write to every log group in the account.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(projectRoot, props.declaration.entry),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.reservedConcurrency !== undefined && { reservedConcurrentExecutions: props.reservedConcurrency }),
      role,
      logGroup,
      ...(props.tracing && { tracing: Tracing.ACTIVE }),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: bundling.nodeOptions,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        ...(props.tracing && { [tracingEnvVar]: 'true' }),
      },
      bundling: {
        format: OutputFormat.ESM,
        target: bundling.target,
        minify: bundling.minify,
        sourceMap: bundling.sourceMap,
        sourcesContent: bundling.sourcesContent,
        mainFields: [...bundling.mainFields],
        externalModules: [...bundling.externalModules],
        banner: bundling.banner,
        ...(!props.tracing && { define: { ...bundling.untracedDefine } }),
        esbuildArgs: Object.fromEntries(Object.entries(bundling.alias).map(([module, path]) => [`--alias:${module}`, path])),
        forceDockerBundling: false,
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the LTS line the code is built and tested for (target node22); ' +
        'moving to a newer runtime is a deliberate, tested change.',
    });
    if (props.tracing) {
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so X-Ray grants them on *.',
      });
    }
  }

  /**
   * Names the table in the environment and grants exactly these actions on it, and on the indexes
   * named, in one step. Not `table.grant`: for a table with indexes it adds `index/*`.
   */
  useTable(table: ITableV2, access: TableAccess): void {
    this.fn.addEnvironment(access.table.envVar, table.tableName);
    Grant.addToPrincipal({
      grantee: this.fn,
      actions: access.actions.map((action: TableAction) => `dynamodb:${action}`),
      resourceArns: [...(access.indexesOnly ? [] : [table.tableArn]), ...(access.indexes ?? []).map((index) => `${table.tableArn}/index/${index}`)],
    });
  }

  /**
   * Sends fan-out jobs to the queue, consumes them (one to an invocation, so that a failure retries
   * one job), or moves the dead-lettered ones back (SQS's message move task, with the permissions it
   * names: receive and delete on the dead-letter queue, send on the queue).
   */
  useFanOutQueue(queues: { queue: IQueue; deadLetters: IQueue }, role: 'send' | 'consume' | 'redrive'): void {
    const { queue, deadLetters } = queues;
    if (role === 'send') {
      this.fn.addEnvironment(fanOutQueueUrlEnvVar, queue.queueUrl);
      // Not grantSendMessages: it adds GetQueueAttributes and GetQueueUrl, which nothing here calls.
      this.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    } else if (role === 'consume') {
      this.fn.addEventSource(new SqsEventSource(queue, { batchSize: 1, reportBatchItemFailures: true }));
    } else {
      this.fn.addEnvironment(fanOutDeadLettersArnEnvVar, deadLetters.queueArn);
      this.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['sqs:StartMessageMoveTask', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          resources: [deadLetters.queueArn],
        }),
      );
      this.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn] }));
    }
  }

  useTokenSecret(secret: ISecret): void {
    this.fn.addEnvironment('TOKEN_SECRET_ARN', secret.secretArn);
    secret.grantRead(this.fn);
  }

  /**
   * Lets the function use this stage's `@connections` API with exactly these methods (POST to push,
   * GET to learn whether a connection is open, DELETE to close one), and nothing else of the API's.
   */
  manageConnections(api: WebSocketApi, stage: WebSocketStage, methods: readonly ConnectionMethod[]): void {
    this.fn.addEnvironment(connectionsEndpointEnvVar, stage.callbackUrl);
    const apiLogicalId = Stack.of(this).getLogicalId(api.node.defaultChild as CfnElement);
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['execute-api:ManageConnections'],
        resources: methods.map((method) =>
          Stack.of(this).formatArn({
            service: 'execute-api',
            resource: api.apiId,
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            resourceName: `${stage.stageName}/${method}/@connections/*`,
          }),
        ),
      }),
    );
    for (const method of methods) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${stage.stageName}/${method}/@connections/*]`,
        reason:
          'Connection ids are made by API Gateway at connect time, so the grant names them by wildcard; it is ' +
          `limited to ${methods.join(', ')} on this API and stage.`,
      });
    }
  }

  /**
   * Lets the function read the service's metrics. GetMetricData has no resource-level permissions and
   * no namespace condition key (`cloudwatch:namespace` applies to PutMetricData only), so `*` is the
   * narrowest grant IAM offers; the action itself is read-only.
   */
  readMetrics(fanOutQueue: IQueue): void {
    this.fn.addEnvironment(fanOutQueueNameEnvVar, fanOutQueue.queueName);
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData supports no resource-level permissions or namespace condition; it is read-only.',
    });
  }

  /** Names the offline events' bus in the environment and lets the function put events on it, and nothing else. */
  putOfflineEvents(bus: IEventBus): void {
    this.fn.addEnvironment(offlineEventBusEnvVar, bus.eventBusName);
    bus.grantPutEventsTo(this.fn);
  }

  /** Names the other function in the environment and lets this one invoke it, in one step. */
  invoke(name: string, target: ServiceFunction): void {
    this.fn.addEnvironment(functionNameEnvVar(name), target.fn.functionName);
    // Not grantInvoke: it adds `<arn>:*` for versions and aliases, which nothing here uses.
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [target.fn.functionArn] }));
  }
}

/** Fails synthesis early, with a plain message, when esbuild is missing (it would fall back to Docker). */
export function assertLocalEsbuild(): void {
  try {
    createRequire(import.meta.url).resolve('esbuild');
  } catch {
    throw new Error('esbuild is not installed: run `npm install` (functions are bundled locally, without Docker)');
  }
}
