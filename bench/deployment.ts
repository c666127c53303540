/**
 * What the CDK stack deploys, read from its synthesized template (without bundling, as test/cdk does):
 * each function's memory, architecture and reserved concurrency, and the WebSocket stage's throttles,
 * so that the cost benchmark prices what `npx cdk deploy` creates rather than a copy of its numbers.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PigeonholeStack } from '../cdk/pigeonhole-stack';
import { functionCatalog, type FunctionName } from '../functions/catalog';

export interface DeployedFunction {
  memoryMb: number;
  architecture: string;
  reservedConcurrency?: number;
}

export interface Throttle {
  rateLimit: number;
  burstLimit: number;
}

export interface Deployment {
  functions: Record<FunctionName, DeployedFunction>;
  /** The WebSocket stage's throttle, for every route together. */
  stageThrottle: Throttle;
  /** Each WebSocket route's own throttle, within the stage's. */
  routeThrottles: Record<string, Throttle>;
}

interface Resource {
  Properties: Record<string, unknown>;
}

/** The default deployment: `npx cdk deploy` with no context. */
export function readDeployment(): Deployment {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = Template.fromStack(new PigeonholeStack(app, 'Pigeonhole'));
  const lambdas = Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Resource>);
  const functions = Object.fromEntries(
    (Object.keys(functionCatalog) as FunctionName[]).map((name) => {
      // The stack names each function's construct `<Name>Handler` (cdk/pigeonhole-stack.ts).
      const id = new RegExp(`^${name.charAt(0).toUpperCase()}${name.slice(1)}HandlerFunction[0-9A-F]{8}$`);
      const found = lambdas.find(([logicalId]) => id.test(logicalId));
      if (!found) throw new Error(`the template has no function for ${name}`);
      const properties = found[1].Properties;
      const reserved = properties.ReservedConcurrentExecutions as number | undefined;
      return [
        name,
        {
          memoryMb: properties.MemorySize as number,
          architecture: ((properties.Architectures as string[] | undefined) ?? ['x86_64'])[0] ?? 'x86_64',
          ...(reserved !== undefined && { reservedConcurrency: reserved }),
        },
      ];
    }),
  ) as Record<FunctionName, DeployedFunction>;

  const stages = Object.values(template.findResources('AWS::ApiGatewayV2::Stage') as Record<string, Resource>).filter(
    (stage) => stage.Properties.RouteSettings !== undefined,
  );
  const [stage] = stages;
  if (!stage || stages.length !== 1) throw new Error('expected one throttled WebSocket stage in the template');
  const throttle = (settings: unknown): Throttle => {
    const s = settings as { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
    return { rateLimit: s.ThrottlingRateLimit, burstLimit: s.ThrottlingBurstLimit };
  };
  return {
    functions,
    stageThrottle: throttle(stage.Properties.DefaultRouteSettings),
    routeThrottles: Object.fromEntries(Object.entries(stage.Properties.RouteSettings as Record<string, unknown>).map(([route, s]) => [route, throttle(s)])),
  };
}
