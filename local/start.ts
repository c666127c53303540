/**
 * `npm start`: the whole service on this machine, with no AWS account (SPEC §1).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JavaMissingError } from './dynamodb-local';
import { FaultInjector, describeFaultMix, faultRules, parseFaultMix } from './faults';
import { parseOpeningDelay, type OpeningDelay } from './gateway/websocket-gateway';
import { parseAsyncInvocationFaults, type AsyncInvocationFaults } from './lambda-service';
import { startLocalStack, type LocalStack } from './stack';
import { StaleReads, parseStaleReadShare } from './stale-reads';

const usage = `Usage: npm start [-- --data-dir DIR] [--faults SPEC] [--opening-delay RANGE]
                 [--stale-reads SHARE] [--async-invocations SPEC]

Runs Pigeonhole locally: DynamoDB Local, the WebSocket API, the admin API and the admin console.

Options:
  --data-dir DIR   keep data in DIR, so that a restart loses nothing (default: in memory)
  --faults SPEC    make a share of AWS calls fail, to see what clients do then, e.g.
                   dynamodb=0.05,connections=5% (DynamoDB: throttled, 500, timeout, lost
                   reply; @connections posts: 410, 429, 500)

AWS's timing, which the emulator otherwise spares clients and handlers:
  --opening-delay RANGE
                   after $connect returns, @connections posts keep getting 410 for a
                   random time in RANGE, as on API Gateway, e.g. 0-300ms
  --stale-reads SHARE
                   that share of eventually consistent DynamoDB reads may answer the
                   item as it was up to a second ago, e.g. 0.1 or 10%
  --async-invocations SPEC
                   Lambda Event invocations arrive late or twice, e.g.
                   late=0.1,twice=5%,delay=100-1000ms
  -h, --help       show this help

Environment:
  PIGEONHOLE_WS_PORT        WebSocket port (default 3001)
  PIGEONHOLE_ADMIN_PORT     admin API port (default 3002)
  PIGEONHOLE_ADMIN_KEY      admin API key (default: generated and printed)
  PIGEONHOLE_TOKEN_SECRET   token-signing secret, 32+ characters (default: generated)
  PIGEONHOLE_DATA_DIR       same as --data-dir
  PIGEONHOLE_FAULTS         same as --faults
  PIGEONHOLE_OPENING_DELAY  same as --opening-delay
  PIGEONHOLE_STALE_READS    same as --stale-reads
  PIGEONHOLE_ASYNC_INVOCATIONS
                            same as --async-invocations
  PIGEONHOLE_SETTINGS_CACHE_SECONDS
                            how long functions cache settings, 0-60 (default 60, as on AWS)
  PIGEONHOLE_EVENTS_URL     where OfflineMessageStored events are POSTed, once the
                            setting offlineEventsEnabled is true (default: nowhere)
  PIGEONHOLE_EVENTS_SECRET  the key of their X-Pigeonhole-Signature HMAC (default: generated)
  DYNAMODB_ENDPOINT         use this DynamoDB instead of starting DynamoDB Local`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      faults: { type: 'string' },
      'opening-delay': { type: 'string' },
      'stale-reads': { type: 'string' },
      'async-invocations': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const env = process.env;
  const dataDir = values['data-dir'] ?? env.PIGEONHOLE_DATA_DIR;
  const externalDynamoDb = env.DYNAMODB_ENDPOINT;
  const faultSpec = values.faults ?? env.PIGEONHOLE_FAULTS;
  const faults = faultSpec ? faultInjector(faultSpec) : undefined;
  const events = offlineEvents(env.PIGEONHOLE_EVENTS_URL, env.PIGEONHOLE_EVENTS_SECRET);
  const timing = awsTiming(values['opening-delay'] ?? env.PIGEONHOLE_OPENING_DELAY, values['stale-reads'] ?? env.PIGEONHOLE_STALE_READS, values['async-invocations'] ?? env.PIGEONHOLE_ASYNC_INVOCATIONS);

  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping || !stack) process.exit(130); // a second Ctrl-C, or one during start-up: leave now
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  // A clone that skipped `npm install`'s prepare step still gets its console.
  if (!existsSync(fileURLToPath(new URL('../dist/console/index.html', import.meta.url)))) {
    await (await import('../console/build')).buildConsole();
  }

  stack = await startLocalStack({
    wsPort: port('PIGEONHOLE_WS_PORT', 3001),
    adminPort: port('PIGEONHOLE_ADMIN_PORT', 3002),
    ...(dataDir && { dataDir }),
    ...(externalDynamoDb && { dynamodbEndpoint: externalDynamoDb }),
    ...(env.PIGEONHOLE_ADMIN_KEY && { adminKey: env.PIGEONHOLE_ADMIN_KEY }),
    ...(env.PIGEONHOLE_TOKEN_SECRET && { tokenSecret: env.PIGEONHOLE_TOKEN_SECRET }),
    settingsCacheSeconds: cacheSeconds(),
    ...(events && { events }),
    ...(faults && { faults: faults.injector }),
    ...timing.options,
    log: (line) => console.log(`  ${new Date().toISOString().slice(11, 19)}  ${line}`),
  });

  const alice = await stack.issueToken('alice');
  const bob = await stack.issueToken('bob');
  const storage = externalDynamoDb ? 'yours' : dataDir ? `on disk in ${dataDir}` : 'in memory';
  console.log(`
Pigeonhole is running.

  WebSocket   ${stack.wsUrl}
  Admin API   ${stack.adminUrl}
  Console     ${stack.consoleUrl}
  DynamoDB    ${stack.dynamodbEndpoint} (${storage})
  Admin key   ${stack.adminKey}

Tokens (valid 24 h):
  alice  ${alice}
  bob    ${bob}

Try it:
  npx --yes wscat -c "${stack.wsUrl}/?token=${alice}"
  > {"action":"send","type":"private","target":"bob","clientMsgId":"m1","body":"hi"}

Admin:
  export PIGEONHOLE_ADMIN_KEY=${stack.adminKey}
  npx pigeonhole config get

${
    events
      ? `Offline events go to ${events.url}, signed with ${events.secret}\n(X-Pigeonhole-Signature: sha256=HMAC-SHA256 of the body), once offlineEventsEnabled=true.\n\n`
      : ''
  }${faults ? `Fault injection is on: ${faults.description}.\n\n` : ''}${timing.description.map((line) => `${line}\n\n`).join('')}Press Ctrl-C to stop.
`);
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new UsageError(`${name} must be a port number (0–65535), not '${raw}'`);
  }
  return value;
}

function cacheSeconds(): number {
  const raw = process.env.PIGEONHOLE_SETTINGS_CACHE_SECONDS;
  if (raw === undefined || raw === '') return 60;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 60) {
    throw new UsageError(`PIGEONHOLE_SETTINGS_CACHE_SECONDS must be a whole number 0-60, not '${raw}'`);
  }
  return value;
}

function offlineEvents(url: string | undefined, secret: string | undefined): { url: string; secret: string } | undefined {
  if (!url) return undefined;
  try {
    if (!['http:', 'https:'].includes(new URL(url).protocol)) throw new Error('not http');
  } catch {
    throw new UsageError(`PIGEONHOLE_EVENTS_URL must be an http(s) URL, not '${url}'`);
  }
  return { url, secret: secret || randomBytes(24).toString('base64url') };
}

function faultInjector(spec: string): { injector: FaultInjector; description: string } {
  let mix;
  try {
    mix = parseFaultMix(spec);
  } catch (error) {
    throw new UsageError(`--faults: ${(error as Error).message}`);
  }
  const injector = new FaultInjector();
  for (const rule of faultRules(mix)) injector.inject(rule);
  return { injector, description: describeFaultMix(mix) };
}

function awsTiming(
  openingDelaySpec: string | undefined,
  staleReadSpec: string | undefined,
  asyncSpec: string | undefined,
): { options: { openingDelay?: OpeningDelay; staleReads?: StaleReads; asyncInvocations?: AsyncInvocationFaults }; description: string[] } {
  const parse = <T>(flag: string, spec: string | undefined, parser: (spec: string) => T): T | undefined => {
    if (!spec) return undefined;
    try {
      return parser(spec);
    } catch (error) {
      throw new UsageError(`--${flag}: ${(error as Error).message}`);
    }
  };
  const openingDelay = parse('opening-delay', openingDelaySpec, parseOpeningDelay);
  const staleShare = parse('stale-reads', staleReadSpec, parseStaleReadShare);
  const asyncInvocations = parse('async-invocations', asyncSpec, parseAsyncInvocationFaults);
  const description: string[] = [];
  if (openingDelay) description.push(`Opening delay is on: posts get 410 for ${openingDelay.minMs}-${openingDelay.maxMs} ms after $connect.`);
  if (staleShare !== undefined) description.push(`Stale reads are on: ${+(staleShare * 100).toFixed(2)} % of eventually consistent reads may see up to 1 s back.`);
  if (asyncInvocations) {
    const { late = 0, twice = 0, delayMs = { minMs: 100, maxMs: 1000 } } = asyncInvocations;
    description.push(`Asynchronous invocations: ${+(late * 100).toFixed(2)} % late, ${+(twice * 100).toFixed(2)} % twice, by ${delayMs.minMs}-${delayMs.maxMs} ms.`);
  }
  return {
    options: {
      ...(openingDelay && { openingDelay }),
      ...(staleShare !== undefined && { staleReads: new StaleReads({ rate: staleShare }) }),
      ...(asyncInvocations && { asyncInvocations }),
    },
    description,
  };
}

class UsageError extends Error {}

main().catch((error: unknown) => {
  if (error instanceof JavaMissingError || error instanceof UsageError) {
    console.error(`\n${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    const address = error as NodeJS.ErrnoException & { port?: number };
    console.error(
      `\nPort ${address.port ?? ''} is already in use: stop whatever holds it, or choose other ports with ` +
        `PIGEONHOLE_WS_PORT and PIGEONHOLE_ADMIN_PORT.\n`,
    );
  } else if ((error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    console.error(`\n${(error as Error).message}\n\n${usage}\n`);
  } else {
    console.error(error);
  }
  process.exit(1);
});
