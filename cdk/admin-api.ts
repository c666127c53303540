import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { adminBasePath } from '../lib/admin/admin-api';

export interface AdminRouteTarget {
  method: string;
  /** A path such as `/v1/users/{id}/config`, or `$default` for every request no route matches. */
  path: string;
  fn: IFunction;
}

/**
 * The admin API (SPEC §7): an HTTP API whose every route, the catch-all included, needs IAM
 * authorization, so callers sign with SigV4 and what they may call is decided by IAM policy.
 */
export class AdminApi extends Construct {
  readonly url: string;
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props: { routes: readonly AdminRouteTarget[]; logRetention: RetentionDays }) {
    super(scope, id);
    const authorizer = new HttpIamAuthorizer();
    const api = (this.api = new HttpApi(this, 'Api', { apiName: 'pigeonhole-admin', createDefaultStage: false, defaultAuthorizer: authorizer }));
    for (const [index, route] of props.routes.entries()) {
      const integration = new HttpLambdaIntegration(`Integration${index}`, route.fn);
      const routeKey = route.path === '$default' ? HttpRouteKey.DEFAULT : HttpRouteKey.with(route.path, route.method as HttpMethod);
      new HttpRoute(this, `Route${index}`, { httpApi: api, routeKey, integration, authorizer });
    }

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const stage = new HttpStage(this, 'Stage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            caller: '$context.identity.userArn',
            error: '$context.error.message',
          }),
        ),
      },
    });
    this.url = `${stage.url.replace(/\/$/, '')}${adminBasePath}`;
  }
}
