/**
 * Each function loads with exactly the environment the stack gives it, and no more: every variable a
 * handler reads at cold start (a table's name, the bus, an endpoint) must come from its catalog
 * entry. The local stack sets every variable for every handler (they share one process), so a grant
 * missing from the catalog would otherwise first fail on AWS, at the function's first cold start.
 */
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PigeonholeStack } from '../../cdk/pigeonhole-stack';
import { functionCatalog } from '../../functions/catalog';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const template = Template.fromStack(new PigeonholeStack(app, 'Pigeonhole'));
const functions = Object.entries(template.findResources('AWS::Lambda::Function')) as Array<
  [string, { Properties: { Environment: { Variables: Record<string, unknown> } } }]
>;

/** What Lambda itself puts in every function's environment, and nothing that reaches a network. */
const lambdaEnvironment = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

/** A deployed value in place of each CloudFormation reference: a URL where a URL goes. */
function deployed(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  return /URL|ENDPOINT/.test(name) ? 'https://example.execute-api.us-east-1.amazonaws.com/live' : `deployed-${name.toLowerCase()}`;
}

const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

describe.each(Object.entries(functionCatalog))('%s', (name, declaration) => {
  it('loads with only the variables the stack sets for it', async () => {
    const prefix = `${name.charAt(0).toUpperCase()}${name.slice(1)}Handler`;
    const match = functions.find(([id]) => id.startsWith(prefix));
    if (!match) throw new Error(`no function for ${name}`);
    const variables = Object.fromEntries(Object.entries(match[1].Properties.Environment.Variables).map(([key, value]) => [key, deployed(key, value)]));
    process.env = { PATH: saved.PATH, HOME: saved.HOME, ...lambdaEnvironment, ...variables };
    vi.resetModules();
    const module = (await import(join(process.cwd(), declaration.entry))) as { handler?: unknown };
    expect(typeof module.handler).toBe('function');
  });
});
