/**
 * The whole service on one machine: DynamoDB Local with the service's tables, the WebSocket gateway
 * emulator running the real handler modules, and the admin port. `npm start` and the tests both
 * start it through here.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  connectionsEndpointEnvVar,
  fanOutDeadLettersArnEnvVar,
  offlineEventBusEnvVar,
  fanOutQueueUrlEnvVar,
  functionCatalog,
  functionNameEnvVar,
  routeSelectionExpression,
  tokenIdentitySource,
  type FunctionDeclaration,
  type FunctionName,
} from '../functions/catalog';
import { adminBasePath } from '../lib/admin/admin-api';
import { registerClientPlugin, type ClientPlugin } from '../lib/aws/client-plugins';
import { useInProcessStats } from '../lib/lambda/stats';
import { InMemoryStats } from '../lib/admin/stats';
import { systemClock, useClock, type Clock } from '../lib/clock';
import { tables, type TableDeclaration } from '../lib/tables';
import { issueToken, minSecretLength } from '../lib/connecting/tokens';
import { startAdminServer, type HttpRouteTarget } from './admin-server';
import { quietSdkNodeVersionWarning, startDynamoDbLocal } from './dynamodb-local';
import type { FaultInjector } from './faults';
import type { RequestMeter } from './request-meter';
import { LocalWebSocketGateway, type GatewayLimits, type GatewayRoute, type OpeningDelay } from './gateway/websocket-gateway';
import { LocalEventBus, type EventTarget } from './event-bus';
import { loadFunction, type LocalFunction } from './lambda-runtime';
import { LocalLambdaService, type AsyncInvocationFaults } from './lambda-service';
import type { StaleReads } from './stale-reads';
import { LocalQueueService } from './queue-service';
import { LocalGrants } from './grants';
import { generateSecrets, persistentSecrets } from './secrets';
import { ensureTables, localTableName } from './tables';

export interface LocalStackOptions {
  host?: string;
  /** 0 picks a free port. */
  wsPort?: number;
  adminPort?: number;
  /** Keep DynamoDB Local's data here; in memory when unset. */
  dataDir?: string;
  /** Use this DynamoDB instead of starting DynamoDB Local. */
  dynamodbEndpoint?: string;
  /** Prefix of every table name, so that several stacks can share one DynamoDB. */
  tablePrefix?: string;
  adminKey?: string;
  tokenSecret?: string;
  gatewayLimits?: Partial<GatewayLimits>;
  /** AWS's timing, which the emulator otherwise spares the handlers: posts get 410 a while after `$connect`. */
  openingDelay?: OpeningDelay;
  /** Eventually consistent reads that may answer from a moment ago. */
  staleReads?: StaleReads;
  /** `Event` invocations that arrive late or twice. */
  asyncInvocations?: AsyncInvocationFaults;
  /** The clock the handlers read; tests pass a controllable one. */
  clock?: Clock;
  /** How long functions may cache settings, at most 60 (SPEC §6); tests use 0 to see changes at once. */
  settingsCacheSeconds?: number;
  /** Faults to inject into the handlers' AWS calls; tests add rules to it as they go. */
  faults?: FaultInjector;
  /** Counts the handlers' DynamoDB requests and capacity units. */
  meter?: RequestMeter;
  /**
   * Where `OfflineMessageStored` events are POSTed (SPEC §12), and the secret that signs them
   * (`PIGEONHOLE_EVENTS_URL`, `PIGEONHOLE_EVENTS_SECRET`); unset, they are taken and dropped.
   */
  events?: EventTarget;
  /** How long each round of PutEvents may take before its events are dropped: 1000 ms (as on AWS) unless longer. */
  offlineEventsDeadlineMs?: number;
  /** More SDK plugins for the handlers' clients (the chaos suite's flight recorder); added before the handlers load. */
  plugins?: readonly ClientPlugin[];
  log?: (line: string) => void;
}

export interface LocalStack {
  wsUrl: string;
  adminUrl: string;
  /** The admin console, signed in: the key in the fragment, which browsers never send (SPEC §1, §11). */
  consoleUrl: string;
  dynamodbEndpoint: string;
  tablePrefix: string;
  adminKey: string;
  tokenSecret: string;
  gateway: LocalWebSocketGateway;
  lambda: LocalLambdaService;
  fanOutJobs: LocalQueueService;
  /** The stand-in for the stack's EventBridge bus, which POSTs events to `events.url`. */
  eventBus: LocalEventBus;
  /** The stale-read mode it was started with, if any. */
  staleReads?: StaleReads;
  tableName(table: TableDeclaration): string;
  issueToken(userId: string, ttlSeconds?: number): Promise<string>;
  stop(): Promise<void>;
}

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const stage = 'local';
const day = 24 * 60 * 60;
let running = false;
/** One per process: handlers loaded by an earlier stack in this process go on counting into it. */
const inProcessStats = new InMemoryStats();

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  // Handlers read their configuration from process.env when they load, as on Lambda; two stacks in
  // one process would overwrite each other's.
  if (running) throw new Error('a local stack is already running in this process');
  running = true;
  quietSdkNodeVersionWarning();
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    useClock(systemClock);
    running = false;
  };

  try {
    const host = options.host ?? '127.0.0.1';
    const tablePrefix = options.tablePrefix ?? 'pigeonhole-';
    const generated = options.dataDir === undefined ? generateSecrets() : persistentSecrets(options.dataDir);
    const tokenSecret = options.tokenSecret ?? generated.tokenSecret;
    if (tokenSecret.length < minSecretLength) {
      throw new Error(`the token secret must be at least ${minSecretLength} characters (HS256 wants a 256-bit key)`);
    }
    const adminKey = options.adminKey ?? generated.adminKey;

    let dynamodbEndpoint = options.dynamodbEndpoint;
    if (!dynamodbEndpoint) {
      const dynamodb = await startDynamoDbLocal(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
      stops.push(() => dynamodb.stop());
      dynamodbEndpoint = dynamodb.endpoint;
    }

    // Started before the gateway so that it stops after it (stops run in reverse): connections
    // closing at shutdown may still invoke functions.
    const lambda = new LocalLambdaService(host, options.log);
    lambda.asyncFaults = options.asyncInvocations;
    await lambda.listen();
    stops.push(() => lambda.stop());

    const fanOutJobs = new LocalQueueService(host, 'pigeonhole-fan-out', {
      visibilityTimeoutMs: 500,
      maxReceiveCount: 5,
      ...(options.log && { log: options.log }),
    });
    await fanOutJobs.listen();
    stops.push(() => fanOutJobs.stop());
    // Every handler runs in this process: they count into one in-memory instance that GET /v1/stats reads.
    useInProcessStats(inProcessStats);
    inProcessStats.fanOutBacklog = () => fanOutJobs.backlog;
    stops.push(async () => void (inProcessStats.fanOutBacklog = undefined));

    const eventBus = new LocalEventBus(host, 'pigeonhole-offline-events', { maxAttempts: 5, firstRetryMs: 100, ...(options.log && { log: options.log }) });
    eventBus.target = options.events;
    await eventBus.listen();
    stops.push(() => eventBus.stop());

    const gateway = new LocalWebSocketGateway({
      host,
      port: options.wsPort ?? 3001,
      stage,
      routeSelectionExpression,
      ...(options.gatewayLimits && { limits: options.gatewayLimits }),
      ...(options.openingDelay && { openingDelay: options.openingDelay }),
      ...(options.log && { log: options.log }),
    });
    await gateway.listen();
    stops.push(() => gateway.stop());

    // Every handler's AWS calls are held to its catalog grants, as IAM holds them on AWS.
    const grants = new LocalGrants(
      functionCatalog,
      new Map(tables.map((table) => [localTableName(tablePrefix, table), table.name])),
    );
    stops.push(asStop(registerClientPlugin(grants.plugin)));
    if (options.faults) stops.push(asStop(registerClientPlugin(options.faults.plugin)));
    if (options.meter) stops.push(asStop(registerClientPlugin(options.meter.plugin)));
    for (const plugin of options.plugins ?? []) stops.push(asStop(registerClientPlugin(plugin)));
    if (options.staleReads) stops.push(asStop(registerClientPlugin(options.staleReads.plugin)));

    configureEnvironment({
      dynamodbEndpoint,
      tablePrefix,
      tokenSecret,
      callbackUrl: gateway.callbackUrl,
      lambdaEndpoint: lambda.url,
      fanOutQueueUrl: fanOutJobs.queueUrl,
      fanOutDeadLettersArn: fanOutJobs.deadLetterQueueArn,
      eventBusEndpoint: eventBus.endpoint,
      eventBusName: eventBus.busName,
      offlineEventsDeadlineMs: options.offlineEventsDeadlineMs,
      settingsCacheSeconds: options.settingsCacheSeconds ?? 60,
    });
    useClock(options.clock ?? systemClock);
    const client = new DynamoDBClient({ endpoint: dynamodbEndpoint });
    await ensureTables(client, tablePrefix, tables);
    client.destroy();

    const functions = new Map<FunctionName, LocalFunction>();
    const routes: Record<string, GatewayRoute> = {};
    const httpRoutes: HttpRouteTarget[] = [];
    for (const [name, declaration] of Object.entries(functionCatalog) as Array<[FunctionName, FunctionDeclaration]>) {
      const fn = await loadFunction(projectRoot, name, declaration.entry, declaration.timeoutSeconds ?? 29);
      functions.set(name, fn);
      if (declaration.route) routes[declaration.route] = { fn, replies: declaration.replies ?? false };
      if (declaration.http) httpRoutes.push({ ...declaration.http, fn });
    }
    lambda.configure([...functions.values()]);
    const fanOutWorker = functions.get('fanOut');
    if (!fanOutWorker) throw new Error('the catalog has no fan-out worker');
    fanOutJobs.consumeWith(fanOutWorker);
    const authorizer = functions.get('authorizer');
    if (!authorizer) throw new Error('the catalog has no authorizer');
    gateway.configure(routes, { fn: authorizer, identitySource: tokenIdentitySource });

    const admin = await startAdminServer({
      host,
      port: options.adminPort ?? 3002,
      adminKey,
      routes: httpRoutes,
      staticMounts: {
        '/': join(projectRoot, 'dist', 'console'),
        '/examples/': join(projectRoot, 'examples'),
        '/client/': join(projectRoot, 'dist', 'client'),
      },
    });
    stops.push(() => admin.stop());

    return {
      wsUrl: gateway.url,
      adminUrl: admin.url,
      consoleUrl: `${admin.url.slice(0, -adminBasePath.length)}/#key=${encodeURIComponent(adminKey)}`,
      dynamodbEndpoint,
      tablePrefix,
      adminKey,
      tokenSecret,
      gateway,
      lambda,
      fanOutJobs,
      eventBus,
      ...(options.staleReads && { staleReads: options.staleReads }),
      tableName: (table) => localTableName(tablePrefix, table),
      issueToken: async (userId, ttlSeconds = day) =>
        (await issueToken(tokenSecret, { userId, ttlSeconds, now: (options.clock ?? systemClock).now() })).token,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function asStop(undo: () => void): () => Promise<void> {
  return async () => undo();
}

/** What Lambda's configuration gives each function on AWS, pointed at the local stand-ins. */
function configureEnvironment(config: {
  dynamodbEndpoint: string;
  tablePrefix: string;
  tokenSecret: string;
  callbackUrl: string;
  lambdaEndpoint: string;
  fanOutQueueUrl: string;
  fanOutDeadLettersArn: string;
  eventBusEndpoint: string;
  eventBusName: string;
  offlineEventsDeadlineMs: number | undefined;
  settingsCacheSeconds: number;
}): void {
  const env = process.env;
  env.AWS_REGION ??= 'us-east-1';
  // Everything here talks to loopback only: fixed credentials keep the SDK from looking for real
  // ones (profiles, SSO, instance metadata).
  env.AWS_ACCESS_KEY_ID = 'local';
  env.AWS_SECRET_ACCESS_KEY = 'local';
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  env.DYNAMODB_ENDPOINT = config.dynamodbEndpoint;
  env[connectionsEndpointEnvVar] = config.callbackUrl;
  env.LAMBDA_ENDPOINT = config.lambdaEndpoint;
  env.SETTINGS_CACHE_SECONDS = String(config.settingsCacheSeconds);
  env[fanOutQueueUrlEnvVar] = config.fanOutQueueUrl;
  env[fanOutDeadLettersArnEnvVar] = config.fanOutDeadLettersArn;
  env.SQS_ENDPOINT = new URL(config.fanOutQueueUrl).origin;
  env.EVENTBRIDGE_ENDPOINT = config.eventBusEndpoint;
  env[offlineEventBusEnvVar] = config.eventBusName;
  if (config.offlineEventsDeadlineMs === undefined) delete env.OFFLINE_EVENTS_DEADLINE_MS;
  else env.OFFLINE_EVENTS_DEADLINE_MS = String(config.offlineEventsDeadlineMs);
  env.TOKEN_SECRET = config.tokenSecret;
  for (const table of tables) env[table.envVar] = localTableName(config.tablePrefix, table);
  // Locally a function's name is its catalog name.
  for (const name of Object.keys(functionCatalog)) env[functionNameEnvVar(name)] = name;
}
