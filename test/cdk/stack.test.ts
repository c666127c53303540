import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { PigeonholeStack } from '../../cdk/pigeonhole-stack';
import { functionCatalog, httpFunctions, routeFunctions, type FunctionDeclaration } from '../../functions/catalog';
import { allStatNames, metricOf } from '../../lib/admin/stats';
import { tables } from '../../lib/tables';

let stack: PigeonholeStack;
let template: Template;

beforeAll(() => {
  // Bundling is exercised by the synth test; here only the template matters.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stack = new PigeonholeStack(app, 'Pigeonhole');
  template = Template.fromStack(stack);
});

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

function resources(type: string): Array<[string, Resource]> {
  return Object.entries(template.findResources(type) as Record<string, Resource>);
}

function apiId(protocol: 'WEBSOCKET' | 'HTTP'): string {
  const match = resources('AWS::ApiGatewayV2::Api').find(([, api]) => api.Properties.ProtocolType === protocol);
  if (!match) throw new Error(`no ${protocol} API`);
  return match[0];
}

/** The routes of one API: the WebSocket API's or the admin HTTP API's. */
function routesOf(protocol: 'WEBSOCKET' | 'HTTP'): Resource[] {
  const id = apiId(protocol);
  return resources('AWS::ApiGatewayV2::Route')
    .map(([, route]) => route)
    .filter((route) => route.Properties.ApiId.Ref === id);
}

/** The logical id of the Lambda function built for a catalog entry. */
function functionId(name: string): string {
  const prefix = `${name.charAt(0).toUpperCase()}${name.slice(1)}Handler`;
  const match = resources('AWS::Lambda::Function').find(([id]) => id.startsWith(prefix));
  if (!match) throw new Error(`no function for ${name}`);
  return match[0];
}

/** Every IAM statement attached to the role of a catalog function. */
function statementsOf(name: string): Array<{ Action: string | string[]; Resource: unknown }> {
  const fn = template.findResources('AWS::Lambda::Function')[functionId(name)] as Resource;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  return resources('AWS::IAM::Policy')
    .filter(([, policy]) => policy.Properties.Roles.some((role: { Ref: string }) => role.Ref === roleId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
}

describe('the WebSocket API', () => {
  it('selects routes by $request.body.action', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: '$request.body.action',
    });
  });

  it('has a route for every catalog entry that serves one, each to its own function', () => {
    const routes = routesOf('WEBSOCKET').map((route) => route.Properties.RouteKey).sort();
    expect(routes).toEqual(routeFunctions().map(([, declaration]) => declaration.route).sort());
    expect(routes).toEqual(expect.arrayContaining(['$connect', '$disconnect', '$default', 'ping']));
  });

  it('guards $connect, and only $connect, with a REQUEST authorizer reading ?token=', () => {
    const [[authorizerId, authorizer]] = resources('AWS::ApiGatewayV2::Authorizer') as [[string, Resource]];
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      IdentitySource: ['route.request.querystring.token'],
    });
    expect(JSON.stringify(authorizer.Properties.AuthorizerUri)).toContain(functionId('authorizer'));
    for (const route of routesOf('WEBSOCKET')) {
      if (route.Properties.RouteKey === '$connect') {
        expect(route.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      } else {
        expect(route.Properties.AuthorizationType).toBe('NONE');
      }
    }
  });

  it('sends a route response for exactly the routes whose function replies', () => {
    const replying = routesOf('WEBSOCKET')
      .filter((route) => route.Properties.RouteResponseSelectionExpression === '$default')
      .map((route) => route.Properties.RouteKey)
      .sort();
    const declared = routeFunctions()
      .filter(([, declaration]) => declaration.replies)
      .map(([, declaration]) => declaration.route)
      .sort();
    expect(replying).toEqual(declared);
    expect(resources('AWS::ApiGatewayV2::RouteResponse')).toHaveLength(declared.length);
  });

  it('deploys a throttled stage with JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId('WEBSOCKET') },
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    // WebSocket access logs need the account's API Gateway CloudWatch role.
    template.hasResourceProperties('AWS::ApiGateway::Account', { CloudWatchRoleArn: Match.anyValue() });
  });

  it('outputs the WebSocket URL', () => {
    template.hasOutput('WebSocketUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith(['wss://', Match.stringLikeRegexp('/live')])] },
    });
  });
});

describe('the admin API', () => {
  it('is an HTTP API with a route for every admin function, and a catch-all', () => {
    const routes = routesOf('HTTP').map((route) => route.Properties.RouteKey).sort();
    const declared = httpFunctions()
      .map(([, declaration]) => (declaration.http.path === '$default' ? '$default' : `${declaration.http.method} ${declaration.http.path}`))
      .sort();
    expect(routes).toEqual(declared);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /v1/config',
        'PATCH /v1/config',
        'PUT /v1/users/{id}/config',
        'POST /v1/tokens',
        'GET /v1/groups',
        'GET /v1/stats',
        '$default',
      ]),
    );
  });

  it('requires IAM (SigV4) authorization on every route, the catch-all included', () => {
    for (const route of routesOf('HTTP')) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('deploys a throttled $default stage with access logs, and outputs its URL', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: apiId('HTTP') },
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    template.hasOutput('AdminApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/v1$')])] } });
  });
});

describe('the tables', () => {
  it.each(tables.map((table) => [table.name, table] as const))(
    '%s: keys as declared, on-demand, TTL if declared, point-in-time recovery, kept when the stack is deleted',
    (_name, table) => {
      const [, resource] = resources('AWS::DynamoDB::GlobalTable').find(([id]) => id.includes(table.name)) as [string, Resource];
      expect(resource.DeletionPolicy).toBe('Retain');
      expect(resource.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          ...(table.sortKey ? [{ AttributeName: table.sortKey, KeyType: 'RANGE' }] : []),
        ],
        ...(table.timeToLiveAttribute && { TimeToLiveSpecification: { AttributeName: table.timeToLiveAttribute, Enabled: true } }),
        Replicas: [expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      });
    },
  );
});

it('expires messages, receipts, send-rate buckets, history, recent conversations and memberships by TTL, and never settings or groups', () => {
  const withTtl = tables.filter((table) => table.timeToLiveAttribute).map((table) => table.name);
  expect(withTtl).toEqual(['Connections', 'OfflineMessages', 'SendReceipts', 'SendRates', 'History', 'RecentConversations', 'RoomMembers']);
  const [, config] = resources('AWS::DynamoDB::GlobalTable').find(([id]) => id.includes('Config')) as [string, Resource];
  expect(config.Properties.TimeToLiveSpecification).toBeUndefined();
});

describe('the functions', () => {
  it('run nodejs22.x on arm64 with source maps, each with a log group that has a retention', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(functionCatalog).length);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      const logGroup = template.findResources('AWS::Logs::LogGroup')[fn.Properties.LoggingConfig.LogGroup.Ref] as Resource;
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    }
  });

  it.each(Object.entries(functionCatalog) as Array<[string, FunctionDeclaration]>)(
    '%s may use exactly the table actions its catalog entry lists, and writes only its own logs',
    (name, declaration) => {
      const statements = statementsOf(name);
      const actions = statements.flatMap((statement) => [statement.Action].flat());
      const expected = [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        ...(declaration.tables ?? []).flatMap((access) => access.actions.map((action) => `dynamodb:${action}`)),
        ...(declaration.tokenSecret ? ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] : []),
        ...(declaration.connections ? ['execute-api:ManageConnections'] : []),
        ...(declaration.invokes ?? []).map(() => 'lambda:InvokeFunction'),
        ...(declaration.readsMetrics ? ['cloudwatch:GetMetricData'] : []),
        ...(declaration.offlineEvents ? ['events:PutEvents'] : []),
        ...(declaration.fanOutJobs === 'send' ? ['sqs:SendMessage'] : []),
        // SQS's message move task: receive and delete on the dead-letter queue, send on the queue.
        ...(declaration.fanOutJobs === 'redrive'
          ? ['sqs:StartMessageMoveTask', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:SendMessage']
          : []),
        ...(declaration.fanOutJobs === 'consume'
          ? ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']
          : []),
        // Lambda sends a drain event it gave up on to the failure queue with the drain's own role.
        ...(name === 'drain' ? ['sqs:SendMessage'] : []),
      ];
      expect(actions.sort()).toEqual(expected.sort());
      // GetMetricData has no resource-level permissions: its `*` is the one allowed, and it is read-only.
      for (const statement of statements.filter((s) => s.Action !== 'cloudwatch:GetMetricData')) {
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
      }
      const environment = (template.findResources('AWS::Lambda::Function')[functionId(name)] as Resource).Properties
        .Environment.Variables;
      for (const access of declaration.tables ?? []) expect(environment[access.table.envVar]).toEqual({ Ref: expect.any(String) });
      expect('TOKEN_SECRET_ARN' in environment).toBe(Boolean(declaration.tokenSecret));
      expect('CONNECTIONS_ENDPOINT' in environment).toBe(Boolean(declaration.connections));
      for (const target of declaration.invokes ?? []) {
        expect(environment[`${target.toUpperCase()}_FUNCTION_NAME`]).toEqual({ Ref: functionId(target) });
      }
    },
  );

  it('lets functions use @connections of this API’s stage only, with just the methods their catalog entry names', () => {
    const [[apiId]] = resources('AWS::ApiGatewayV2::Api') as [[string, Resource]];
    const managing = Object.entries(functionCatalog).filter(([, declaration]) => 'connections' in declaration) as Array<[string, FunctionDeclaration]>;
    expect(Object.fromEntries(managing.map(([name, declaration]) => [name, declaration.connections]))).toEqual({
      // A connection past maxConnectionsPerUser replaces the oldest: told `closing`, then closed.
      connect: ['POST', 'DELETE'],
      send: ['POST', 'DELETE'],
      // sync only posts: it never closes a connection.
      sync: ['POST'],
      drain: ['POST', 'DELETE', 'GET'],
      fanOut: ['POST', 'DELETE'],
      adminSendSystemMessage: ['POST', 'DELETE'],
      adminSendMessage: ['POST', 'DELETE'],
    });
    for (const [name, declaration] of managing) {
      const statement = statementsOf(name).find((s) => s.Action === 'execute-api:ManageConnections');
      const arns = [statement?.Resource].flat().map((resource) => JSON.stringify(resource));
      expect(arns).toHaveLength(declaration.connections?.length ?? 0);
      for (const arn of arns) expect(arn).toContain(`{"Ref":"${apiId}"}`);
      declaration.connections?.forEach((method, i) => expect(arns[i]).toContain(`/live/${method}/@connections/*`));
    }
  });

  it('lets recent conversations query the byMember index, and not the members table itself', () => {
    const query = statementsOf('recent').find((s) => JSON.stringify(s.Resource).includes('GroupMembers'));
    const arns = [query?.Resource].flat().map((resource) => JSON.stringify(resource));
    expect(arns).toHaveLength(1);
    expect(arns[0]).toContain('/index/byMember');
  });

  it('lets $connect invoke the drain function, and nothing else, and the drain is not retried', () => {
    const invoke = statementsOf('connect').find((s) => s.Action === 'lambda:InvokeFunction');
    expect(invoke?.Resource).toEqual({ 'Fn::GetAtt': [functionId('drain'), 'Arn'] });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId('drain') },
      MaximumRetryAttempts: 0,
    });
  });

  it('lets only the admin group listing Scan, and only the Groups table', () => {
    const scanning = resources('AWS::IAM::Policy')
      .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>)
      .filter((statement) => [statement.Action].flat().includes('dynamodb:Scan'));
    expect(scanning).toEqual(statementsOf('adminListGroups').filter((statement) => [statement.Action].flat().includes('dynamodb:Scan')));
    expect(scanning).toHaveLength(1);
    expect(JSON.stringify(scanning[0]?.Resource)).toContain('Groups');
  });

  it('lets only GET /v1/stats read metrics, and nothing but GetMetricData', () => {
    const reading = Object.entries(functionCatalog).filter(([, declaration]) => 'readsMetrics' in declaration);
    expect(reading.map(([name]) => name)).toEqual(['adminGetStats']);
    expect(statementsOf('adminGetStats').filter((s) => s.Action === 'cloudwatch:GetMetricData')).toEqual([
      expect.objectContaining({ Action: 'cloudwatch:GetMetricData', Resource: '*' }),
    ]);
  });

  it('drops a drain event older than a minute to a failure queue, which alarms to the alarm topic', () => {
    const [[, config]] = resources('AWS::Lambda::EventInvokeConfig') as [[string, Resource]];
    expect(config.Properties).toMatchObject({ FunctionName: { Ref: functionId('drain') }, MaximumEventAgeInSeconds: 60 });
    const destination = config.Properties.DestinationConfig.OnFailure.Destination as { 'Fn::GetAtt': [string, string] };
    const queueId = destination['Fn::GetAtt'][0];
    expect(template.findResources('AWS::SQS::Queue')[queueId]).toMatchObject({
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 },
    });
    // The drain may send there, and nowhere else on SQS.
    const send = statementsOf('drain').find((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(send?.Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });

    const [[topicId]] = resources('AWS::SNS::Topic') as [[string, Resource]];
    const alarms = resources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      }),
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId } });
  });

  it('grants an index by its name, never index/*', () => {
    const query = statementsOf('recent').find((s) => s.Action === 'dynamodb:Query');
    expect(JSON.stringify(query?.Resource)).toContain('/index/byMember');
    const all = resources('AWS::IAM::Policy').flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(all)).not.toContain('/index/*');
  });

  it('hands large fan-outs to an encrypted, SSL-only queue with a dead-letter queue, one job to a worker invocation', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionId('fanOut') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('uses no AWS managed policy for function roles', () => {
    for (const [, role] of resources('AWS::IAM::Role')) {
      const service = role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service;
      if (service === 'lambda.amazonaws.com') expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('the offline events’ bus (SPEC §12)', () => {
  it('is an EventBridge bus of the stack, its name and ARN output', () => {
    const [[busId]] = resources('AWS::Events::EventBus') as [[string, Resource]];
    template.hasOutput('OfflineEventBusName', { Value: { Ref: busId } });
    template.hasOutput('OfflineEventBusArn', { Value: { 'Fn::GetAtt': [busId, 'Arn'] } });
  });

  it('takes events from exactly the functions that store messages, each naming it and allowed PutEvents on it alone', () => {
    const [[busId]] = resources('AWS::Events::EventBus') as [[string, Resource]];
    const putting = Object.entries(functionCatalog)
      .filter(([, declaration]) => 'offlineEvents' in declaration && declaration.offlineEvents)
      .map(([name]) => name);
    expect(putting.sort()).toEqual(['adminSendMessage', 'adminSendSystemMessage', 'fanOut', 'send']);
    for (const name of Object.keys(functionCatalog)) {
      const put = statementsOf(name).filter((statement) => [statement.Action].flat().includes('events:PutEvents'));
      const environment = (template.findResources('AWS::Lambda::Function')[functionId(name)] as Resource).Properties.Environment.Variables;
      if (!putting.includes(name)) {
        expect(put).toEqual([]);
        expect(environment.OFFLINE_EVENT_BUS_NAME).toBeUndefined();
        continue;
      }
      expect(put.map((statement) => statement.Resource)).toEqual([{ 'Fn::GetAtt': [busId, 'Arn'] }]);
      expect(environment.OFFLINE_EVENT_BUS_NAME).toEqual({ Ref: busId });
    }
  });
});

describe('alarms and the dashboard', () => {
  const alarms = (): Array<Record<string, any>> => resources('AWS::CloudWatch::Alarm').map(([id, alarm]) => ({ id, ...alarm.Properties }));
  const topicId = () => (resources('AWS::SNS::Topic') as [[string, Resource]])[0][0];
  /** The metrics an alarm watches, plain or inside its math expression. */
  const watched = (alarm: Record<string, any>) =>
    alarm.Metrics
      ? (alarm.Metrics as Array<{ MetricStat?: { Metric: Record<string, any> } }>).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []))
      : [{ Namespace: alarm.Namespace, MetricName: alarm.MetricName, Dimensions: alarm.Dimensions }];

  it('every alarm notifies the alarm topic, which is an output, and none fires on missing data', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId() }]);
      expect(alarm.TreatMissingData).toBe('notBreaching');
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
    }
    template.hasOutput('AlarmTopicArn', { Value: { Ref: topicId() } });
  });

  it('alarms when the fan-out dead-letter queue is not empty', () => {
    const [[, jobs]] = resources('AWS::SQS::Queue').filter(([, queue]) => queue.Properties.RedrivePolicy) as [[string, Resource]];
    const deadLettersId = (jobs.Properties.RedrivePolicy.deadLetterTargetArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLettersId, 'QueueName'] } }],
        Threshold: 1,
      }),
    );
  });

  it('alarms on every function’s errors and throttles (the authorizer’s throttles: its errors are refused tokens)', () => {
    for (const name of Object.keys(functionCatalog)) {
      const mine = alarms().filter((alarm) => watched(alarm).some((metric) => JSON.stringify(metric.Dimensions).includes(`"Ref":"${functionId(name)}"`)));
      expect(mine, name).toHaveLength(1);
      const metrics = watched(mine[0] as Record<string, any>).map((metric) => `${metric.Namespace} ${metric.MetricName}`);
      expect(metrics.sort(), name).toEqual(name === 'authorizer' ? ['AWS/Lambda Throttles'] : ['AWS/Lambda Errors', 'AWS/Lambda Throttles']);
    }
  });

  it('alarms on the APIs’ 5xx: the WebSocket API’s execution and integration errors, the admin API’s 5xx', () => {
    const names = alarms().flatMap((alarm) => watched(alarm).filter((metric) => metric.Namespace === 'AWS/ApiGateway').map((metric) => metric.MetricName));
    expect(names.sort()).toEqual(['5xx', 'ExecutionError', 'IntegrationError']);
    const webSocket = alarms().find((alarm) => watched(alarm).some((metric) => metric.MetricName === 'ExecutionError'));
    expect(watched(webSocket as Record<string, any>)[0]?.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'ApiId', Value: { Ref: apiId('WEBSOCKET') } }, { Name: 'Stage', Value: 'live' }]),
    );
  });

  it('alarms on DynamoDB throttling, for every table', () => {
    const throttled = alarms().filter((alarm) => watched(alarm).some((metric) => metric.MetricName === 'ReadThrottleEvents'));
    expect(throttled).toHaveLength(tables.length);
    for (const alarm of throttled) expect(watched(alarm).map((metric) => metric.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
  });

  it('alarms on drain failures and on offline events dropped', () => {
    expect(alarms().filter((alarm) => String(alarm.AlarmDescription).startsWith('A drain event failed'))).toHaveLength(1);
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        Namespace: 'Pigeonhole',
        MetricName: 'OfflineEventsFailed',
        Dimensions: [{ Name: 'service', Value: 'pigeonhole' }],
        Statistic: 'Sum',
        Threshold: 1,
      }),
    );
  });

  it('has a dashboard of every metric the functions emit, the queues, the functions, the APIs and the tables, and outputs its name', () => {
    const [[dashboardId, dashboard]] = resources('AWS::CloudWatch::Dashboard') as [[string, Resource]];
    template.hasOutput('DashboardName', { Value: { Ref: dashboardId } });
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const name of allStatNames) expect(body, name).toContain(`\\"${metricOf(name).metricName}\\"`);
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'Errors', 'Throttles', 'ExecutionError', '5xx', 'ReadThrottleEvents']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('\\"Pigeonhole\\"');
    expect(body).toContain('alarm');
  });
});

describe('tracing', () => {
  it('is off by default: no function is traced or loads the tracer', () => {
    for (const [, fn] of resources('AWS::Lambda::Function')) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBeUndefined();
    }
  });

  it('with -c tracing=true, traces the send and drain functions with X-Ray and Powertools Tracer, and cdk-nag stays clean', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], tracing: 'true' } });
    const traced = new PigeonholeStack(app, 'Traced');
    const functions = Object.entries(Template.fromStack(traced).findResources('AWS::Lambda::Function') as Record<string, Resource>);
    const tracedNames = functions.filter(([, fn]) => fn.Properties.TracingConfig).map(([id]) => id.replace(/Handler.*/, ''));
    expect(tracedNames.sort()).toEqual(['Drain', 'Send']);
    for (const [, fn] of functions.filter(([, f]) => f.Properties.TracingConfig)) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('true');
    }
    const report = new AwsSolutionsChecks().validateScope(traced);
    expect(report.violations.flatMap((violation) => violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.resourceLogicalId}`))).toEqual([]);
  });
});

describe('protection of the shared parts', () => {
  const reservedOf = (t: Template) =>
    Object.fromEntries(
      Object.keys(functionCatalog).map((name) => {
        const prefix = `${name.charAt(0).toUpperCase()}${name.slice(1)}Handler`;
        const [, fn] = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix)) as [string, Resource];
        return [name, fn.Properties.ReservedConcurrentExecutions];
      }),
    );
  const synth = (context: Record<string, unknown>) =>
    Template.fromStack(new PigeonholeStack(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), 'Pigeonhole'));

  it('reserves concurrency for what every connection needs, and for nothing else, by default', () => {
    const reserved = reservedOf(template);
    expect(Object.fromEntries(Object.entries(reserved).filter(([, value]) => value !== undefined))).toEqual({
      authorizer: 10,
      connect: 10,
      disconnect: 5,
      drain: 10,
    });
    // Far from what an account of the default 1,000 must keep unreserved (100).
    expect(Object.values(reserved).reduce((sum: number, value) => sum + ((value as number | undefined) ?? 0), 0)).toBeLessThanOrEqual(100);
  });

  it('reserves none with -c reservedConcurrency=off, for an account whose limit is still 10', () => {
    expect(Object.values(reservedOf(synth({ reservedConcurrency: 'off' }))).every((value) => value === undefined)).toBe(true);
  });

  it('takes changes to the reservations as JSON, 0 for none, and refuses what it cannot use', () => {
    const reserved = reservedOf(synth({ reservedConcurrency: '{"drain":25,"disconnect":0,"send":40}' }));
    expect(reserved).toMatchObject({ authorizer: 10, connect: 10, drain: 25, send: 40 });
    expect(reserved.disconnect).toBeUndefined();
    expect(() => synth({ reservedConcurrency: '{"nope":1}' })).toThrow('no function named nope');
    expect(() => synth({ reservedConcurrency: '{"drain":-1}' })).toThrow('drain must be a whole number');
    expect(() => synth({ reservedConcurrency: 'lots' })).toThrow('must be off, on, or a JSON object');
  });

  it('throttles each route within the stage, after the routes exist', () => {
    const [[stageId, stage]] = resources('AWS::ApiGatewayV2::Stage').filter(([, r]) => r.Properties.ApiId.Ref === apiId('WEBSOCKET')) as [[string, Resource]];
    const throttled = routeFunctions().filter(([, declaration]) => declaration.throttle);
    expect(Object.keys(stage.Properties.RouteSettings).sort()).toEqual(throttled.map(([, declaration]) => declaration.route).sort());
    expect(stage.Properties.RouteSettings).toMatchObject({
      send: { ThrottlingRateLimit: 300, ThrottlingBurstLimit: 600 },
      $connect: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      $default: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    // Each route's limit is within the stage's.
    for (const settings of Object.values(stage.Properties.RouteSettings) as Array<{ ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>) {
      expect(settings.ThrottlingRateLimit).toBeLessThanOrEqual(stage.Properties.DefaultRouteSettings.ThrottlingRateLimit);
      expect(settings.ThrottlingBurstLimit).toBeLessThanOrEqual(stage.Properties.DefaultRouteSettings.ThrottlingBurstLimit);
    }
    const dependsOn = (template.toJSON().Resources[stageId] as { DependsOn?: string[] }).DependsOn ?? [];
    const routeIds = resources('AWS::ApiGatewayV2::Route')
      .filter(([, route]) => route.Properties.ApiId.Ref === apiId('WEBSOCKET') && Object.hasOwn(stage.Properties.RouteSettings, route.Properties.RouteKey))
      .map(([id]) => id);
    expect(routeIds).toHaveLength(throttled.length);
    expect(dependsOn).toEqual(expect.arrayContaining(routeIds));
  });
});

describe("cdk-nag's AwsSolutions pack", () => {
  it('finds nothing that is not acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => {
        const path = (resource as { constructPath?: string }).constructPath ?? resource.resourceLogicalId;
        return `${violation.ruleName} at ${path}: ${violation.description}`;
      }),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('has a reason of substance for every acknowledgement', () => {
    const acknowledgements = stack.node
      .findAll()
      .flatMap((construct: IConstruct) =>
        construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY),
      )
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [rule, reason] of acknowledgements) expect(`${rule}: ${reason}`).toMatch(/^Annotation::AwsSolutions-\S+: .{40,}/);
  });
});
