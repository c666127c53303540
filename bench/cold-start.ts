/**
 * Cold start: each function bundled exactly as the CDK stack bundles it (cdk/bundling.ts), its
 * minified size, and the median time to import it in a fresh Node process: the part of a cold start
 * the code decides.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { bundling } from '../cdk/bundling';
import {
  connectionsEndpointEnvVar,
  fanOutDeadLettersArnEnvVar,
  fanOutQueueUrlEnvVar,
  functionCatalog,
  functionNameEnvVar,
  offlineEventBusEnvVar,
  type FunctionDeclaration,
} from '../functions/catalog';
import { tables } from '../lib/tables';
import { benchDir, median, progress, report, round } from './support';

const loads = 7;
const maxBundleKb = 300;
const maxLoadMs = 100;
const buildDir = join(benchDir, '.build');

/** What the stack gives each function; nothing is contacted while a module loads. */
const environment: Record<string, string> = {
  ...Object.fromEntries(tables.map((table) => [table.envVar, `bench-${table.name}`])),
  ...Object.fromEntries(Object.keys(functionCatalog).map((name) => [functionNameEnvVar(name), name])),
  [connectionsEndpointEnvVar]: 'https://example.execute-api.us-east-1.amazonaws.com/live',
  [fanOutQueueUrlEnvVar]: 'https://sqs.us-east-1.amazonaws.com/000000000000/fan-out',
  [offlineEventBusEnvVar]: 'bench-offline-events',
  [fanOutDeadLettersArnEnvVar]: 'arn:aws:sqs:us-east-1:000000000000:fan-out-dead-letters',
  TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:token',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

/** `nodeOptions`: as deployed by default; without them, to see what reading the source map costs. */
function loadMs(bundle: string, nodeOptions: string = bundling.nodeOptions): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, [...nodeOptions.split(' ').filter(Boolean), '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...environment },
    encoding: 'utf8',
  });
  return Number(output.trim().split('\n').at(-1));
}

/** Where a bundle's bytes come from: the AWS SDK (its clients and core), other packages, and the project's own code. */
interface Composition {
  sdkKb: number;
  packagesKb: number;
  ownKb: number;
}

function composition(metafile: Metafile): Composition {
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith('.mjs'))?.[1];
  const kb = { sdkKb: 0, packagesKb: 0, ownKb: 0 };
  for (const [file, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const key = /node_modules\/@(aws-sdk|smithy|aws-crypto)\//.test(file) ? 'sdkKb' : file.includes('node_modules/') ? 'packagesKb' : 'ownKb';
    kb[key] += bytesInOutput / 1024;
  }
  return kb;
}

/** Builds a function as the stack does; `sdkExternal` leaves the AWS SDK out, for the runtime's to be used. */
async function bundle(entry: string, outdir: string, sdkExternal = false): Promise<{ file: string } & Composition> {
  const { metafile } = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    mainFields: [...bundling.mainFields],
    external: sdkExternal ? ['@aws-sdk/*', '@smithy/*'] : [...bundling.externalModules],
    alias: sdkExternal ? {} : { ...bundling.alias },
    banner: { js: bundling.banner },
    define: { ...bundling.untracedDefine },
    outfile: join(outdir, 'index.mjs'),
    metafile: true,
    logLevel: 'silent',
  });
  return { file: join(outdir, 'index.mjs'), ...composition(metafile) };
}

async function main(): Promise<void> {
  rmSync(buildDir, { recursive: true, force: true });
  const rows: Array<[string, number, number, number, number, number, number]> = [];
  const names = Object.keys(functionCatalog) as Array<keyof typeof functionCatalog>;
  const bar = progress('functions', names.length);
  /** Size in KB and load times in ms of one bundle. */
  const measure = (file: string) => ({ kb: statSync(file).size / 1024, times: Array.from({ length: loads }, () => loadMs(file)) });
  for (const name of names) {
    const declaration: FunctionDeclaration = functionCatalog[name];
    const built = await bundle(declaration.entry, join(buildDir, name));
    const { kb, times } = measure(built.file);
    rows.push([name, round(kb, 1), round(built.sdkKb, 1), round(built.packagesKb, 1), round(built.ownKb, 1), round(median(times), 1), round(Math.max(...times), 1)]);
    bar.tick();
  }
  bar.done();
  // The other way to a small bundle, for the largest function: the SDK left to the runtime. Built inside
  // the project, so that the SDK resolves from node_modules as the runtime's would.
  const bundled = rows.reduce((a, b) => (b[1] > a[1] ? b : a));
  const [largestName, largest, largestSdk, largestPackages, largestOwn, largestLoad] = bundled;
  const withoutMaps = median(Array.from({ length: loads }, () => loadMs(join(buildDir, largestName, 'index.mjs'), '')));
  const external = measure((await bundle(functionCatalog[largestName as keyof typeof functionCatalog].entry, join(buildDir, `${largestName}-sdk-external`), true)).file);
  rmSync(buildDir, { recursive: true, force: true });

  const slowest = Math.max(...rows.map((r) => r[5]));
  const over = rows.filter((r) => r[1] > maxBundleKb);
  report({
    name: 'cold-start',
    title: 'Cold start: bundle size and module load',
    tables: [
      {
        title: `Each function, minified ESM as deployed; module load is the median of ${loads} fresh Node processes`,
        columns: ['function', 'bundle KB', 'of it AWS SDK KB', 'other packages KB', 'own code KB', 'median load ms', 'slowest load ms'],
        rows,
      },
    ],
    targets: [
      {
        what: 'largest bundle',
        target: `≤ ${maxBundleKb} KB`,
        measured: `${largest} KB (${over.length} of ${rows.length} over)`,
        met: largest <= maxBundleKb,
        ifMissed:
          `By up to ${round((largest / maxBundleKb - 1) * 100, 1)} %, in ${over.map((r) => r[0]).join(', ')}. ${largestName} is ${largestSdk} KB of AWS SDK ` +
          `(the DynamoDB client and the core it needs; the other services are called through lib/aws/aws-api.ts, which uses the same core), ` +
          `${largestPackages} KB of other packages (zod, Powertools Logger and Metrics, Middy, ulid) and ${largestOwn} KB of its own code. ` +
          `The SDK is bundled on purpose: ${largestName} bundled loads in ${largestLoad} ms; with the SDK left to the runtime's it is ` +
          `${round(external.kb, 1)} KB but loads in ${round(median(external.times), 1)} ms, as Node then reads the SDK's many files one by one.`,
      },
      {
        what: 'slowest median module load',
        target: `≤ ${maxLoadMs} ms`,
        measured: `${slowest} ms`,
        met: slowest <= maxLoadMs,
        ifMissed:
          'Load follows bundle size: V8 compiles the whole module as it is imported (about a third of the largest function’s load in a CPU profile here), ' +
          `and Node reads its source map for the logs’ stack traces (${largestName}: ${round(largestLoad - withoutMaps, 1)} ms of its ${largestLoad}; ` +
          `${round(withoutMaps, 1)} ms without \`${bundling.nodeOptions}\`). A smaller bundle is the cure for both targets.`,
      },
    ],
    notes: [
      `Module load includes building the AWS SDK clients each function needs, which happens at load, and reading the source map (the stack runs every function with \`${bundling.nodeOptions}\`); it excludes the Lambda runtime’s own start (Node and its bootstrap).`,
    ],
  });
}

await main();
