/** `npx cdk synth` as a user runs it: offline, bundling every function with local esbuild. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { functionCatalog } from '../../functions/catalog';

const outdir = mkdtempSync(join(tmpdir(), 'pigeonhole-synth-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk synth', () => {
  it('synthesizes the Pigeonhole stack with a bundle for every function, and cdk-nag passes', async () => {
    const { stderr } = await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--output', outdir], {
      cwd: process.cwd(),
      // No AWS account or credentials here: synthesis must not need them.
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', CDK_DISABLE_VERSION_CHECK: '1' },
      timeout: 300_000, // bundling thirty functions takes minutes on a busy machine
    });
    expect(stderr).not.toMatch(/AwsSolutions-/);

    const template = JSON.parse(readFileSync(join(outdir, 'Pigeonhole.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(functionCatalog).length);
    for (const fn of functions) {
      const assetDir = join(outdir, fn.Metadata?.['aws:asset:path'] ?? 'missing');
      expect(existsSync(join(assetDir, 'index.mjs'))).toBe(true);
      // Mappings and names for the stack traces, not the sources: Node reads the map as it loads the function.
      const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as { mappings: string; sources: string[]; sourcesContent?: unknown };
      expect(map.mappings.length).toBeGreaterThan(0);
      expect(map.sourcesContent).toBeUndefined();
      // cdk/bundling.ts's stand-ins took the place of what is dead weight on Lambda, and lib/aws/aws-api.ts
      // that of the SDK clients for @connections, Lambda, SQS and EventBridge.
      const deadWeight = /node_modules\/(@aws-sdk\/(credential-provider-(node|ini|sso)|endpoint-cache|client-(apigatewaymanagementapi|lambda|sqs|eventbridge))|mnemonist|@smithy\/core\/dist-es\/submodules\/(event-streams|checksum))\//;
      expect(map.sources.filter((source) => deadWeight.test(source))).toEqual([]);
    }
  }, 360_000);
});
