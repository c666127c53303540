import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, LogGroupLogDestination, WebSocketApi, WebSocketStage, type WebSocketRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routeSelectionExpression, tokenIdentitySource } from '../functions/catalog';

export interface WebSocketRouteTarget {
  route: string;
  fn: IFunction;
  /** Send what the function returns back on the connection. */
  replies: boolean;
  /** This route's own limit within the stage's. */
  throttle?: { rateLimit: number; burstLimit: number };
}

export interface ServiceWebSocketApiProps {
  stageName: string;
  authorizer: IFunction;
  routes: readonly WebSocketRouteTarget[];
  throttle: { rateLimit: number; burstLimit: number };
  logRetention: RetentionDays;
}

/** The WebSocket API: token-authorized `$connect`, one route per catalog entry, a throttled, logged stage. */
export class ServiceWebSocketApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: ServiceWebSocketApiProps) {
    super(scope, id);
    const authorizer = new WebSocketLambdaAuthorizer('TokenAuthorizer', props.authorizer, {
      identitySource: [tokenIdentitySource],
    });
    this.api = new WebSocketApi(this, 'Api', { apiName: 'pigeonhole', routeSelectionExpression });
    const throttled: Array<{ route: WebSocketRoute; target: WebSocketRouteTarget }> = [];
    for (const target of props.routes) {
      const route = this.api.addRoute(target.route, {
        integration: new WebSocketLambdaIntegration(`${target.route}Integration`, target.fn),
        returnResponse: target.replies,
        ...(target.route === '$connect' && { authorizer }),
      });
      if (target.throttle) throttled.push({ route, target });
      if (target.route !== '$connect') {
        Validations.of(route).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'WebSocket APIs authorize once, on $connect (token authorizer); every later route runs on that ' +
            'authorized connection and reads the caller from the authorizer context.',
        });
      }
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            routeKey: '$context.routeKey',
            eventType: '$context.eventType',
            status: '$context.status',
            connectionId: '$context.connectionId',
            principalId: '$context.authorizer.principalId',
            integrationLatency: '$context.integrationLatency',
            error: '$context.error.message',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    this.stage.node.addDependency(apiGatewayLoggingRole(this));

    // A route's own throttle, within the stage's: a flood of one route leaves the others their share.
    // The stage must come after the routes it names, or CloudFormation cannot find them.
    const cfnStage = this.stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = Object.fromEntries(
      throttled.map(({ target }) => [
        target.route,
        { ThrottlingRateLimit: target.throttle?.rateLimit, ThrottlingBurstLimit: target.throttle?.burstLimit },
      ]),
    );
    for (const { route } of throttled) this.stage.node.addDependency(route);
  }
}

/**
 * WebSocket stages write access logs through the account-wide API Gateway CloudWatch role; without
 * it the deployment fails ("CloudWatch Logs role ARN must be set in account settings").
 */
function apiGatewayLoggingRole(scope: Construct): CfnAccount {
  const role = new Role(scope, 'ApiGatewayLoggingRole', {
    assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
    managedPolicies: [ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
  });
  // The setting is account-wide and other APIs may come to rely on it: keep the role if the stack goes.
  role.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason: "AWS's own policy for API Gateway's account logging role, the documented way to enable WebSocket access logs.",
  });
  const account = new CfnAccount(scope, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  account.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return account;
}
