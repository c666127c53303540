/**
 * How every function is bundled: the CDK stack hands these to NodejsFunction (esbuild), and the
 * cold-start benchmark builds the same bundles with them, so it measures what is deployed.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bundling = {
  format: 'esm',
  target: 'node22',
  minify: true,
  /**
   * Source maps for readable stack traces in the logs (`nodeOptions`), without the sources themselves:
   * Node reads a function's map as it loads it, and the sources are two thirds of it. Left out, the
   * largest function loads about 40 ms sooner (the cold-start benchmark loads them as deployed).
   */
  sourceMap: true,
  sourcesContent: false,
  /** What each function runs with: the stack sets it as NODE_OPTIONS, the cold-start benchmark loads with it. */
  nodeOptions: '--enable-source-maps',
  mainFields: ['module', 'main'],
  /**
   * The AWS SDK is bundled, not taken from the runtime: one tree-shaken file loads about three times
   * faster than the runtime's SDK packages (see the cold-start benchmark), and pins the SDK version
   * the tests ran against.
   */
  externalModules: [],
  /** Module replacements: dead weight on Lambda (see each file). */
  alias: {
    '@aws-sdk/credential-provider-node': join(dirname(fileURLToPath(import.meta.url)), 'lambda-credentials.ts'),
    '@aws-sdk/endpoint-cache': join(dirname(fileURLToPath(import.meta.url)), 'lambda-endpoint-cache.ts'),
    '@smithy/core/checksum': join(dirname(fileURLToPath(import.meta.url)), 'lambda-checksum.ts'),
    '@smithy/core/event-streams': join(dirname(fileURLToPath(import.meta.url)), 'lambda-event-streams.ts'),
  },
  /**
   * For a function deployed without tracing: the handlers' test of `POWERTOOLS_TRACE_ENABLED` is
   * folded to false, so esbuild leaves Powertools Tracer and the X-Ray SDK (some 130 KB) out.
   */
  untracedDefine: { 'process.env.POWERTOOLS_TRACE_ENABLED': '"false"' },
  /** Some CommonJS dependencies call require(); ESM bundles need it defined. */
  banner: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
} as const;
