/**
 * What Pigeonhole costs on AWS at list prices, all in, and what a large deployment meets first: the
 * README's Cost section and the operations guide's scale plan, computed from measured figures.
 *
 * - DynamoDB units come from bench/request-units.ts's latest results (history and recent
 *   conversations off, 200-byte body), with the reads DynamoDB charges and DynamoDB Local does not report.
 * - WebSocket frames, Lambda invocations and their durations, `@connections` calls and offline events
 *   are measured here (bench/cost-probe.ts), on the local stack, through the client SDK. Durations are
 *   local: an estimate of Lambda's.
 * - Memory, architecture, reserved concurrency and throttles come from the synthesized CDK template
 *   (bench/deployment.ts); prices from bench/prices.ts; AWS quotas from bench/quotas.ts; the SDK's
 *   keep-alive, reconnect and backoff timing from the SDK itself.
 *
 * `tsx bench/cost.ts` runs the probes (one local stack per case, as settings are cached for 60 s) and
 * writes bench/results/cost.json and scale.json, which bench/run.ts turns into the README's Cost section
 * and docs/operations.md's scale plan; `--reuse` recomputes from the last probes without running them.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PigeonholeClient, type WebSocketLike } from '../client/index';
import type { FunctionName } from '../functions/catalog';
import { defaultAppSettings } from '../lib/retention/settings';
import { leaseFor, rateRuleOf } from '../lib/sending/send-rate';
import { connectionsTable, groupMembersTable, offlineMessagesTable, roomMembersTable, sendReceiptsTable } from '../lib/tables';
import { apiGatewayLimits } from '../local/gateway/websocket-gateway';
import { probeBodyBytes, probeGroupMembers, probeRoomMembers, runProbe, type ProbeOutput, type Sample, type ScenarioName } from './cost-probe';
import { readDeployment, type Deployment } from './deployment';
import { describePrice, listCost, monthlyCost, prices, type Price } from './prices';
import { quotas } from './quotas';
import { simulateStorm, type StormResult } from './reconnect-storm';
import { median, report, resultsDir, round, type Table } from './support';

const million = 1_000_000;
const monthDays = 30;
const monthMinutes = monthDays * 24 * 60;
const monthSeconds = monthMinutes * 60;
const apiGatewayFrameBytes = 32 * 1024;
const iotAndAppSyncMeteredBytes = 5 * 1024;
const eventBridgeChunkBytes = 64 * 1024;
const probeFile = join(resultsDir, 'cost-probe.json');

// --- Profiles: what one message (connection, ping) takes, from the probe's samples -----------------

interface FunctionFigures {
  count: number;
  /** Invocations × duration: the concurrency one such unit a second holds, in ms. */
  busyMs: number;
  /** Invocations × duration rounded up to Lambda's 1 ms. */
  billedMs: number;
}

interface Profile {
  lambda: Record<string, FunctionFigures>;
  /** Median duration of one invocation, by function, as measured (for display). */
  medianMs: Record<string, number>;
  /** Frames by `in <action>` and `out <type>`. */
  frames: Record<string, number>;
  /** API Gateway's billed messages: each frame's 32 KB units. */
  billed: { in: number; out: number };
  /** The handlers' AWS calls other than DynamoDB: PostToConnection, GetConnection, PutEvents… */
  calls: Record<string, number>;
  /** EventBridge's billed events: each PutEvents entry's 64 KB chunks. */
  events: number;
  dynamodb: Record<string, { readUnits: number; writeUnits: number }>;
  /** Median size of one frame of each kind. */
  frameBytes: Record<string, number>;
  /** What a drain took beyond an empty drain measured beside it, per drain: the message's share of it. */
  drainBeyondEmptyMs?: number;
}

const emptyProfile = (): Profile => ({ lambda: {}, medianMs: {}, frames: {}, billed: { in: 0, out: 0 }, calls: {}, events: 0, dynamodb: {}, frameBytes: {} });

function medianOfCounts(samples: readonly Sample[], count: (sample: Sample) => Record<string, number>): Record<string, number> {
  const keys = new Set(samples.flatMap((sample) => Object.keys(count(sample))));
  return Object.fromEntries([...keys].map((key) => [key, median(samples.map((sample) => (count(sample)[key] ?? 0) / sample.units))]));
}

function tally<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const item of items) totals[key(item)] = (totals[key(item)] ?? 0) + 1;
  return totals;
}

function aggregate(samples: readonly Sample[] | undefined): Profile {
  if (!samples || samples.length === 0) throw new Error('a probe scenario has no samples');
  const counts = medianOfCounts(samples, (s) => tally(s.invocations, (i) => i.fn));
  const medianMs = Object.fromEntries(Object.keys(counts).map((fn) => [fn, median(samples.flatMap((s) => s.invocations.filter((i) => i.fn === fn).map((i) => i.ms)))]));
  const lambda = Object.fromEntries(
    Object.entries(counts).map(([fn, count]) => {
      const ms = medianMs[fn] ?? 0;
      return [fn, { count, busyMs: count * ms, billedMs: count * Math.ceil(ms) }];
    }),
  );
  const billedFrames = (direction: 'in' | 'out') =>
    median(samples.map((s) => s.frames.filter((f) => f.direction === direction).reduce((sum, f) => sum + Math.ceil(f.bytes / apiGatewayFrameBytes), 0) / s.units));
  const dynamodbReads = medianOfCounts(samples, (s) => Object.fromEntries(Object.entries(s.dynamodb).map(([table, u]) => [table, u.readUnits])));
  const dynamodbWrites = medianOfCounts(samples, (s) => Object.fromEntries(Object.entries(s.dynamodb).map(([table, u]) => [table, u.writeUnits])));
  const frameKinds = [...new Set(samples.flatMap((s) => s.frames.map((f) => `${f.direction} ${f.kind}`)))];
  const paired = samples.filter((s) => s.baselineDrainMs !== undefined && Number.isFinite(s.baselineDrainMs));
  const drainBeyondEmpty = paired.map((s) => {
    const drains = s.invocations.filter((i) => i.fn === 'drain');
    return drains.reduce((sum, i) => sum + i.ms - (s.baselineDrainMs ?? 0), 0) / Math.max(1, drains.length);
  });
  return {
    ...(paired.length > 0 && { drainBeyondEmptyMs: median(drainBeyondEmpty) }),
    lambda,
    medianMs,
    frames: medianOfCounts(samples, (s) => tally(s.frames, (f) => `${f.direction} ${f.kind}`)),
    billed: { in: billedFrames('in'), out: billedFrames('out') },
    calls: medianOfCounts(samples, (s) => tally(s.calls, (c) => c.command)),
    events: median(samples.map((s) => s.calls.flatMap((c) => c.entryBytes).reduce((sum, bytes) => sum + Math.ceil(bytes / eventBridgeChunkBytes), 0) / s.units)),
    dynamodb: Object.fromEntries(
      [...new Set([...Object.keys(dynamodbReads), ...Object.keys(dynamodbWrites)])].map((table) => [
        table,
        { readUnits: dynamodbReads[table] ?? 0, writeUnits: dynamodbWrites[table] ?? 0 },
      ]),
    ),
    frameBytes: Object.fromEntries(
      frameKinds.map((kind) => [kind, median(samples.flatMap((s) => s.frames.filter((f) => `${f.direction} ${f.kind}` === kind).map((f) => f.bytes)))]),
    ),
  };
}

function addRecords(a: Record<string, number>, b: Record<string, number>, k: number): Record<string, number> {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + k * value;
  return sum;
}

/** a + k·b, field by field (sizes and medians from whichever has them). */
function combine(a: Profile, b: Profile, k = 1): Profile {
  const lambda: Record<string, FunctionFigures> = { ...a.lambda };
  for (const [fn, figures] of Object.entries(b.lambda)) {
    const mine = lambda[fn] ?? { count: 0, busyMs: 0, billedMs: 0 };
    lambda[fn] = { count: mine.count + k * figures.count, busyMs: mine.busyMs + k * figures.busyMs, billedMs: mine.billedMs + k * figures.billedMs };
  }
  const dynamodb = { ...a.dynamodb };
  for (const [table, units] of Object.entries(b.dynamodb)) {
    const mine = dynamodb[table] ?? { readUnits: 0, writeUnits: 0 };
    dynamodb[table] = { readUnits: mine.readUnits + k * units.readUnits, writeUnits: mine.writeUnits + k * units.writeUnits };
  }
  return {
    lambda,
    medianMs: { ...b.medianMs, ...a.medianMs },
    frames: addRecords(a.frames, b.frames, k),
    billed: { in: a.billed.in + k * b.billed.in, out: a.billed.out + k * b.billed.out },
    calls: addRecords(a.calls, b.calls, k),
    events: a.events + k * b.events,
    dynamodb,
    frameBytes: { ...b.frameBytes, ...a.frameBytes },
  };
}

const scaled = (p: Profile, k: number) => combine(emptyProfile(), p, k);

/**
 * A message's own share of a sample that also opened and closed `connections` connections (the
 * recipients'): their authorizer, `$connect` and `$disconnect` are taken out whole, and of each drain
 * only what delivering the message added to an empty drain's time is left (`drainBeyondEmptyMs`, from
 * drains measured side by side).
 */
function withoutConnections(p: Profile, connection: Profile, connections: number, drainBeyondEmptyMs: number): Profile {
  const own = combine(p, connection, -connections);
  for (const [fn, figures] of Object.entries(own.lambda)) {
    const theirs = connection.lambda[fn];
    if (!theirs) continue;
    if (fn === 'drain') {
      const drains = p.lambda.drain?.count ?? 0;
      figures.busyMs = drains * Math.max(0, drainBeyondEmptyMs);
      figures.billedMs = drains * Math.max(0, Math.round(drainBeyondEmptyMs));
    } else {
      // The same work in both: its duration here and there differs only by noise.
      const ms = connection.medianMs[fn] ?? 0;
      figures.busyMs = figures.count * ms;
      figures.billedMs = figures.count * Math.ceil(ms);
    }
  }
  return own;
}

/**
 * Reads DynamoDB charges that DynamoDB Local does not report: a key a BatchGetItem does not find (the
 * offline recipient's connections: 1 unit each, strongly consistent) and a Query that finds nothing
 * (an empty drain: 1 unit). Counted from what each scenario looks up, since no local figure shows them.
 */
const unreportedReads: Partial<Record<ScenarioName, Record<string, number>>> = {
  offline: { [connectionsTable.name]: 1 },
  group: { [connectionsTable.name]: probeGroupMembers },
  connection: { [offlineMessagesTable.name]: 1 },
};

function withUnreportedReads(p: Profile, scenario: ScenarioName): Profile {
  const extra = emptyProfile();
  for (const [table, readUnits] of Object.entries(unreportedReads[scenario] ?? {})) extra.dynamodb[table] = { readUnits, writeUnits: 0 };
  return combine(p, extra);
}

interface Profiles {
  connection: Profile;
  offline: Profile;
  offlineWithEvents: Profile;
  online: Profile;
  group: Profile;
  groupWithEvents: Profile;
  chatroom: Profile;
  ping: Profile;
  /** The connection's open and close alone (`$disconnect` is not in request-units' connection row). */
  disconnection: Profile;
}

function profilesOf(off: ProbeOutput, on: ProbeOutput): Profiles {
  const open = aggregate(off.scenarios.connection);
  const disconnection = aggregate(off.scenarios.disconnection);
  // Taken out of a message as measured here, so that what its drain read stays the message's, as in request-units.
  const measuredConnection = combine(open, disconnection);
  const connection = withUnreportedReads(measuredConnection, 'connection');
  // Every drain here delivers one message, as the offline private message's do: theirs, measured beside empty drains, is each one's share.
  const drainBeyondEmptyMs = aggregate(off.scenarios.offline).drainBeyondEmptyMs ?? 0;
  const message = (output: ProbeOutput, scenario: ScenarioName, connections: number) =>
    withUnreportedReads(withoutConnections(aggregate(output.scenarios[scenario]), measuredConnection, connections, drainBeyondEmptyMs), scenario);
  return {
    connection,
    disconnection,
    offline: message(off, 'offline', 1),
    offlineWithEvents: message(on, 'offline', 1),
    online: message(off, 'online', 0),
    group: message(off, 'group', probeGroupMembers),
    groupWithEvents: message(on, 'group', probeGroupMembers),
    chatroom: message(off, 'chatroom', 0),
    ping: aggregate(off.scenarios.ping),
  };
}

// --- DynamoDB units from request-units' results ----------------------------------------------------

interface Units {
  writeUnits: number;
  readUnits: number;
}

interface RequestUnits {
  measuredAt: string;
  /** History and recent conversations off, 200-byte body, with the send rate's lease at what a sender of many messages pays. */
  of(scenario: string): Units;
  leasePerMessage: number;
}

function readRequestUnits(): RequestUnits {
  const result = JSON.parse(readFileSync(join(resultsDir, 'request-units.json'), 'utf8')) as { tables: Table[]; measuredAt: string };
  const table = (column: string) => {
    const found = result.tables.find((t) => t.columns.includes(column));
    if (!found) throw new Error(`request-units.json has no table with a '${column}' column: run \`npm run bench -- request-units\``);
    return { rows: found.rows, at: found.columns.indexOf(column) };
  };
  const totals = table('both off');
  const leases = table('lease write units / message');
  const without = table('write units / message without');
  const bodyAt = result.tables.find((t) => t.columns.includes('both off'))?.columns.indexOf('body') ?? 1;
  const leaseOf = (scenario: string) => Number(leases.rows.find((row) => row[0] === scenario)?.[leases.at] ?? 0);
  const leasePerMessage = leaseOf('offline private, 100 queued');
  return {
    measuredAt: result.measuredAt,
    leasePerMessage,
    of(scenario) {
      const row = totals.rows.find((r) => r[0] === scenario && ['200 B', ''].includes(String(r[bodyAt])));
      if (!row) throw new Error(`request-units.json has no row '${scenario}': run \`npm run bench -- request-units\``);
      const [writeUnits = Number.NaN, readUnits = Number.NaN] = String(row[totals.at]).split('/').map((part) => Number(part.trim()));
      const withoutLease = without.rows.find((r) => r[0] === scenario)?.[without.at];
      // A sender of many messages pays a share of a lease a message, not the whole one a lone message pays.
      return { writeUnits: withoutLease === undefined ? writeUnits : Number(withoutLease) + leasePerMessage, readUnits };
    },
  };
}

const unitsIn = (p: Profile): Units =>
  Object.values(p.dynamodb).reduce((sum, u) => ({ writeUnits: sum.writeUnits + u.writeUnits, readUnits: sum.readUnits + u.readUnits }), { writeUnits: 0, readUnits: 0 });
const plusUnits = (a: Units, b: Units): Units => ({ writeUnits: a.writeUnits + b.writeUnits, readUnits: a.readUnits + b.readUnits });
const plusReads = (units: Units, reads: Record<string, number> | undefined): Units => ({
  writeUnits: units.writeUnits,
  readUnits: units.readUnits + Object.values(reads ?? {}).reduce((sum, r) => sum + r, 0),
});

// --- Prices ---------------------------------------------------------------------------------------

interface Cost {
  apiGateway: number;
  lambda: number;
  dynamodb: number;
  eventBridge: number;
}

const total = (c: Cost) => c.apiGateway + c.lambda + c.dynamodb + c.eventBridge;

function lambdaCost(p: Profile, deployment: Deployment): number {
  let usd = 0;
  for (const [fn, figures] of Object.entries(p.lambda)) {
    const deployed = deployment.functions[fn as FunctionName];
    if (!deployed) throw new Error(`the deployment has no function ${fn}`);
    if (deployed.architecture !== 'arm64') throw new Error(`${fn} is ${deployed.architecture}: bench/prices.ts prices arm64 only`);
    usd += listCost(prices.lambdaRequests, figures.count);
    usd += listCost(prices.lambdaArmGbSeconds, (figures.billedMs / 1000) * (deployed.memoryMb / 1024));
  }
  return usd;
}

function costOf(p: Profile, units: Units, deployment: Deployment): Cost {
  return {
    apiGateway: listCost(prices.apiGatewayMessages, p.billed.in + p.billed.out),
    lambda: lambdaCost(p, deployment),
    dynamodb: listCost(prices.dynamoDbWriteUnits, units.writeUnits) + listCost(prices.dynamoDbReadUnits, units.readUnits),
    eventBridge: listCost(prices.eventBridgeEvents, p.events),
  };
}

// --- The client SDK's timing, read from the SDK itself ---------------------------------------------

interface SdkTiming {
  pingIntervalMs: number;
  maxConnectionMs: number;
  /** When the SDK opens the next connection (client/index.ts: a little before API Gateway's 2 hours). */
  replaceAfterMs: number;
  minDelayMs: number;
  maxDelayMs: number;
}

function sdkTiming(): SdkTiming {
  const unused = class implements WebSocketLike {
    readyState = 3;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    send(): void {}
    close(): void {}
  };
  // The defaults the SDK fills in for options left unset: what an app that sets none runs with.
  const { options } = new PigeonholeClient({ url: 'ws://unused', token: 'unused', WebSocket: unused }) as unknown as {
    options: { pingIntervalMs: number; maxConnectionMs: number; minDelayMs: number; maxDelayMs: number };
  };
  return {
    pingIntervalMs: options.pingIntervalMs,
    maxConnectionMs: options.maxConnectionMs,
    // As client/index.ts's opened(): replaced with up to five minutes to spare.
    replaceAfterMs: options.maxConnectionMs - Math.min(5 * 60_000, options.maxConnectionMs / 5),
    minDelayMs: options.minDelayMs,
    maxDelayMs: options.maxDelayMs,
  };
}

// --- Formatting -----------------------------------------------------------------------------------

function usd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return '$0';
  if (value >= 100) return `$${Math.round(value).toLocaleString('en-US')}`;
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(2).replace(/^0\./, '0.')}`;
}

const count = (value: number, digits = 0) => round(value, digits).toLocaleString('en-US');

function share(demand: number, limit: number): string {
  const ratio = demand / limit;
  return ratio >= 10 ? `${count(ratio)}×` : `${count(ratio * 100)} %`;
}

/** `send 1 × 19 ms, ack 1 × 13 ms, drain +5 ms` */
function lambdaCell(p: Profile): string {
  return Object.entries(p.lambda)
    .filter(([, f]) => round(f.count, 2) !== 0 || f.busyMs >= 0.5)
    .map(([fn, f]) =>
      round(f.count, 2) === 0 ? `${fn} +${count(f.busyMs)} ms` : `${fn} ${count(f.count, 2)} × ${count(f.busyMs / f.count, f.busyMs / f.count < 10 ? 1 : 0)} ms`,
    )
    .join(', ');
}

/** `2 (send, ack) / 4 (sent, messages, drained, acked)` */
function framesCell(p: Profile): string {
  const side = (direction: 'in' | 'out') => {
    const kinds = Object.entries(p.frames).filter(([key, n]) => key.startsWith(`${direction} `) && round(n, 2) > 0);
    const n = kinds.reduce((sum, [, k]) => sum + k, 0);
    return `${count(n, 2)} (${kinds.map(([key, k]) => `${key.slice(direction.length + 1)}${round(k, 2) === 1 ? '' : ` ${count(k, 2)}`}`).join(', ')})`;
  };
  return `${side('in')} / ${side('out')}`;
}

// --- The Cost section ------------------------------------------------------------------------------

interface Scenario {
  name: string;
  profile: Profile;
  units: Units;
  /** Who receives it, for the services that bill each delivery. */
  recipients: number;
  /** AppSync Events keeps nothing for a subscriber who is away. */
  needsStore: boolean;
  /** It emits offline events, which IoT Core and AppSync Events have no counterpart for. */
  offlineEvents: boolean;
}

interface Alternatives {
  iotCore: number;
  appSyncEvents: number;
  iotMessages: number;
  appSyncOperations: number;
}

function alternatives(s: Scenario): Alternatives {
  const publish = Math.ceil((s.profile.frameBytes['in send'] ?? 0) / iotAndAppSyncMeteredBytes);
  const delivery = Math.ceil((s.profile.frameBytes['out messages'] ?? 0) / iotAndAppSyncMeteredBytes);
  // One publish, one delivery per recipient; IoT Core's PUBACKs and AppSync's keep-alives are not billed.
  const messages = publish + s.recipients * delivery;
  return {
    iotMessages: messages,
    appSyncOperations: messages,
    iotCore: listCost(prices.iotCoreMessages, messages),
    appSyncEvents: listCost(prices.appSyncEventsOperations, messages),
  };
}

interface IdleMonth {
  connections: number;
  pings: number;
  profile: Profile;
  units: Units;
  cost: Cost & { connectionMinutes: number };
  iotCore: number;
  appSyncEvents: number;
}

function idleMonth(profiles: Profiles, connectionUnits: Units, timing: SdkTiming, deployment: Deployment): IdleMonth {
  const connections = (monthMinutes * 60_000) / timing.replaceAfterMs;
  const pings = (monthMinutes * 60_000) / timing.pingIntervalMs;
  const profile = combine(scaled(profiles.connection, connections), profiles.ping, pings);
  const units = { writeUnits: connections * connectionUnits.writeUnits, readUnits: connections * connectionUnits.readUnits };
  return {
    connections,
    pings,
    profile,
    units,
    cost: { ...costOf(profile, units, deployment), connectionMinutes: listCost(prices.apiGatewayConnectionMinutes, monthMinutes) },
    // One connection all month: IoT Core and AppSync Events set no two-hour limit (taken as so).
    iotCore: listCost(prices.iotCoreConnectionMinutes, monthMinutes),
    appSyncEvents: listCost(prices.appSyncEventsConnectionMinutes, monthMinutes) + listCost(prices.appSyncEventsOperations, 2),
  };
}

function costSection(scenarios: Scenario[], idle: IdleMonth, profiles: Profiles, deployment: Deployment, timing: SdkTiming, ru: RequestUnits, machineLoad: string) {
  const rows = scenarios.map((s) => {
    const c = costOf(s.profile, s.units, deployment);
    const alt = alternatives(s);
    const dagger = s.needsStore ? ' †' : '';
    const none = s.offlineEvents ? ' ‡' : '';
    return [
      s.name,
      usd(c.apiGateway * million),
      usd(c.lambda * million),
      usd(c.dynamodb * million),
      c.eventBridge > 0 ? usd(c.eventBridge * million) : '–',
      `**${usd(total(c) * million)}**`,
      `${usd(alt.iotCore * million)}${none}`,
      `${usd(alt.appSyncEvents * million)}${dagger}${none}`,
    ];
  });
  rows.push([
    'one user connected for a month, no traffic (per million users)',
    `${usd((idle.cost.apiGateway + idle.cost.connectionMinutes) * million)}`,
    usd(idle.cost.lambda * million),
    usd(idle.cost.dynamodb * million),
    '–',
    `**${usd((total(idle.cost) + idle.cost.connectionMinutes) * million)}**`,
    usd(idle.iotCore * million),
    usd(idle.appSyncEvents * million),
  ]);

  const counted = scenarios.map((s) => {
    const alt = alternatives(s);
    return [
      s.name,
      framesCell(s.profile),
      lambdaCell(s.profile),
      `${count(s.units.writeUnits, 2)} / ${count(s.units.readUnits, 2)}`,
      round(s.profile.events, 2) > 0 ? count(s.profile.events, 2) : '–',
      count(alt.iotMessages),
      count(alt.appSyncOperations),
    ];
  });
  counted.push([
    'one user connected for a month, no traffic',
    `${count(idle.pings)} pings: ${count(idle.pings * framesIn(profiles.ping))} in (ping) / ${count(idle.pings * (profiles.ping.billed.out))} out (pong)`,
    `${count(idle.connections, 1)} connections, each ${lambdaCell(profiles.connection)}; ${count(idle.pings)} × ping ${count(profiles.ping.medianMs.ping ?? 0, 1)} ms`,
    `${count(idle.units.writeUnits, 1)} / ${count(idle.units.readUnits, 1)}`,
    '–',
    `${count(monthMinutes)} connection minutes`,
    `${count(monthMinutes)} connection minutes; a connect and a subscribe`,
  ]);

  const priceRows = (Object.entries(prices) as Array<[string, Price]>).map(([, price]) => [describePrice(price), price.region, price.source, price.takenOn, price.note ?? '']);
  const offline = scenarios[0];
  const offlineCost = offline ? costOf(offline.profile, offline.units, deployment) : undefined;
  const backlog = plusReads(ru.of('offline private, 100 queued'), unreportedReads.offline);
  const memory = [...new Set(Object.values(deployment.functions).map((f) => `${f.memoryMb} MB ${f.architecture}`))].join(', ');

  return {
    name: 'cost',
    title: 'Cost',
    tables: [
      {
        title:
          'Dollars per million messages at us-east-1 list prices (per million users for the idle month), history and recent conversations off, ' +
          `${probeBodyBytes}-byte bodies; beside it the same job on AWS IoT Core (MQTT persistent sessions) and AWS AppSync Events`,
        columns: ['scenario', 'API Gateway', 'Lambda (estimate)', 'DynamoDB', 'EventBridge', 'Pigeonhole', 'IoT Core', 'AppSync Events'],
        rows,
      },
      {
        title:
          'What is counted, per message: WebSocket messages in / out (each 32 KB one message), Lambda invocations × their median local duration ' +
          '(drain +: what the recipients\' drains took beyond empty ones, in all), DynamoDB write / read units, events, and what IoT Core and AppSync Events would bill',
        columns: ['scenario', 'WebSocket messages in / out', 'Lambda', 'DynamoDB W / R', 'events', 'IoT Core messages', 'AppSync Events operations'],
        rows: counted,
      },
      {
        title: 'The prices (bench/prices.ts)',
        columns: ['price', 'region', 'source', 'taken', 'note'],
        rows: priceRows,
      },
    ],
    targets: [],
    notes: [
      '**How this is computed.** `npm run bench -- request-units cost` rewrites these tables; nothing in them is typed by hand but the prices.',
      `- **DynamoDB**: the units \`bench/request-units.ts\` measured (${ru.measuredAt.slice(0, 10)}), with the send rate's lease at ${round(ru.leasePerMessage, 2)} write units a message (a sender of many messages), ` +
        'plus the reads DynamoDB charges and DynamoDB Local does not report: 1 unit for each offline recipient whose connections a send looks up, and 1 for the empty drain of each connection. ' +
        `Each row is a message on its own; one of a backlog of 100 costs ${count(backlog.writeUnits, 2)} write and ${count(backlog.readUnits, 2)} read units instead (one drain, one ack by bound).`,
      `- **API Gateway**: every frame counted at the client, both ways, through the client SDK (its acks, its pings), each 32 KB one message. \`sent\`, \`acked\` and \`pong\` are route responses; \`messages\` and \`drained\` are \`@connections\` posts. ` +
        'The upgrade is not a message, and a connection that opens and closes sends none. A drain packs many messages into each frame of up to 32 KB (see the drain benchmark under Performance), so a backlog costs less a message than one message does.',
      `- **Lambda**: every handler invocation on the local stack, timed there, billed per 1 ms at each function's configured memory (${memory}, from the synthesized stack). ` +
        'Local durations are an estimate: Lambda\'s differ (calls to DynamoDB and API Gateway cross a network there), and the drain\'s include its wait for the socket to open (the emulator\'s, here; API Gateway\'s is longer). ' +
        `${machineLoad} ` +
        `A message sent to someone away counts its send and ack, and of the recipient's drain only what it took beyond an empty drain timed just before it (another user's connection, so that both meet the same load); the recipient's connect, authorizer and \`$disconnect\` belong to the connection, priced in the last row.`,
      `- **The idle month**: API Gateway closes a connection after ${apiGatewayLimits.maxConnectionMs / 3_600_000} hours; the SDK replaces it after ${round(timing.replaceAfterMs / 60_000)} minutes, ` +
        `${count(idle.connections, 1)} connections in ${monthDays} days, each with its authorizer, \`$connect\`, drain and \`$disconnect\` and their DynamoDB units; ` +
        `it pings every ${timing.pingIntervalMs / 60_000} minutes (under the ${apiGatewayLimits.idleTimeoutMs / 60_000}-minute idle timeout), a \`ping\` in, a \`pong\` out and a ping invocation each. ` +
        `Of the row's ${usd((total(idle.cost) + idle.cost.connectionMinutes) * million)} per million users, the pings are ` +
        `${usd((listCost(prices.apiGatewayMessages, idle.pings * (profiles.ping.billed.in + profiles.ping.billed.out)) + lambdaCost(scaled(profiles.ping, idle.pings), deployment)) * million)} ` +
        `and the connection minutes ${usd(idle.cost.connectionMinutes * million)}.`,
      '- **EventBridge** (with `offlineEventsEnabled`): one event per copy stored for a user who is away, counted from the PutEvents entries the functions made, each 64 KB one event. ' +
        'SQS is not in any row: only recipients past the first 1,000 of a message go through the fan-out queue.',
      '- **IoT Core**: one PUBLISH and one delivery per recipient (kept by the broker for a persistent session while the device is away, and billed once when delivered), each 5 KB one message, at the size of the same frames here; ' +
        'PUBACK, PINGREQ, SUBSCRIBE and CONNECT taken as not billed. **AppSync Events**: one publish and one delivery per subscriber, each 5 KB one operation, and a connect and a subscribe for the month.',
      '- † AppSync Events keeps nothing for a subscriber who is away: its figure is the publish and the deliveries as if everyone were connected. Doing the offline job with it takes a store besides, for example the DynamoDB items priced in the Pigeonhole columns, and a way to read it on reconnect.',
      '- ‡ Neither IoT Core nor AppSync Events announces a message stored for an offline device: waking devices is the app\'s own work there; the figure is without it.',
      '- Not included: DynamoDB storage and point-in-time recovery, CloudWatch logs and metrics (every invocation writes log lines), Secrets Manager, data transfer out, the free tiers, and IoT Core\'s or AppSync\'s authorizers. ' +
        `Prices are first-tier list prices: API Gateway and IoT Core bill less a message past a billion a month (see [the scale plan](docs/operations.md#scale-plan)).`,
      `- The prices were not fetched by the machine that ran this (it has no internet access): they are the public pricing pages as known in ${prices.apiGatewayMessages.takenOn}, in \`bench/prices.ts\`. Check them before relying on a figure.`,
      offlineCost
        ? `So an offline private message is ${usd(total(offlineCost) * million)} per million, ${round((offlineCost.apiGateway / total(offlineCost)) * 100, 0)} % of it API Gateway's messages and ${round((offlineCost.dynamodb / total(offlineCost)) * 100, 0)} % DynamoDB's units.`
        : '',
    ].filter(Boolean),
  };
}

// --- The scale plan --------------------------------------------------------------------------------

/** The load the scale plan is for (issue 18). */
const load = {
  users: 1_000_000,
  onlineAtPeak: 100_000,
  averagePerSecond: 1_000,
  peakPerSecond: 10_000,
  groupShare: 0.05,
  groupMembers: probeGroupMembers,
  stormClients: 100_000,
  /** How soon the storm should settle, for the quota to ask for: a couple of minutes of reconnecting after a blip. */
  stormSettleTargetSeconds: 120,
};
/** A recipient is online as often as users are at the peak. */
const recipientOnline = load.onlineAtPeak / load.users;

/** One message of the mix: private ones to someone online or away, group ones. */
function messageMix(profiles: Profiles, events: boolean): Profile {
  const offline = events ? profiles.offlineWithEvents : profiles.offline;
  // Offline events scale with the share of members away (the probe's members are all away).
  const group = events ? combine(scaled(profiles.group, recipientOnline), profiles.groupWithEvents, 1 - recipientOnline) : profiles.group;
  const privateMessage = combine(scaled(profiles.online, recipientOnline), offline, 1 - recipientOnline);
  return combine(scaled(privateMessage, 1 - load.groupShare), group, load.groupShare);
}

function unitsMix(u: { online: Units; offline: Units; group: Units }): Units {
  const mix = (pick: (x: Units) => number) =>
    (1 - load.groupShare) * (recipientOnline * pick(u.online) + (1 - recipientOnline) * pick(u.offline)) + load.groupShare * pick(u.group);
  return { writeUnits: mix((x) => x.writeUnits), readUnits: mix((x) => x.readUnits) };
}

interface Rates {
  /** Everything a second: the messages, the connections' pings and their reconnects every ~2 hours. */
  perSecond: Profile;
  connectsPerSecond: number;
}

function rates(profiles: Profiles, timing: SdkTiming, messagesPerSecond: number, events: boolean, extraConnectsPerSecond = 0): Rates {
  const steadyConnects = load.onlineAtPeak / (timing.replaceAfterMs / 1000);
  const connectsPerSecond = steadyConnects + extraConnectsPerSecond;
  const perSecond = combine(
    combine(scaled(messageMix(profiles, events), messagesPerSecond), profiles.ping, load.onlineAtPeak / (timing.pingIntervalMs / 1000)),
    profiles.connection,
    connectsPerSecond,
  );
  return { perSecond, connectsPerSecond };
}

const framesIn = (p: Profile, kind?: string) =>
  Object.entries(p.frames)
    .filter(([key]) => (kind ? key === `in ${kind}` : key.startsWith('in ')))
    .reduce((sum, [, n]) => sum + n, 0);
const connectionsCalls = (p: Profile) => (p.calls.PostToConnection ?? 0) + (p.calls.GetConnection ?? 0) + (p.calls.DeleteConnection ?? 0);
const concurrency = (p: Profile, fn?: string) =>
  Object.entries(p.lambda)
    .filter(([name]) => (fn ? name === fn : true))
    .reduce((sum, [, f]) => sum + Math.max(0, f.busyMs), 0) / 1000;

interface Limit {
  what: string;
  setBy: string;
  value: number;
  /** Demand at the average, the peak and during the storm. */
  demand: [number, number, number];
  awsQuota: boolean;
}

function scaleSection(
  profiles: Profiles,
  deployment: Deployment,
  timing: SdkTiming,
  ru: RequestUnits,
  unitsOf: { online: Units; offline: Units; group: Units; connection: Units },
  machineLoad: string,
) {
  const storms = stormRuns(timing, deployment);
  const [deployed] = storms;
  if (!deployed) throw new Error('no storm');
  const stormConnects = deployed.config.rate;
  const average = rates(profiles, timing, load.averagePerSecond, false);
  const peak = rates(profiles, timing, load.peakPerSecond, false);
  const storm = rates(profiles, timing, load.averagePerSecond, false, stormConnects);
  const peakWithEvents = rates(profiles, timing, load.peakPerSecond, true);
  const all = [average, peak, storm];
  const route = (name: string) => {
    const throttle = deployment.routeThrottles[name];
    if (!throttle) throw new Error(`the stage has no throttle for ${name}`);
    return throttle.rateLimit;
  };
  const reserved = Object.entries(deployment.functions).filter(([, f]) => f.reservedConcurrency !== undefined) as Array<[string, { reservedConcurrency: number }]>;
  const reservedTotal = reserved.reduce((sum, [, f]) => sum + f.reservedConcurrency, 0);
  const unreserved = (p: Profile) => concurrency(p) - reserved.reduce((sum, [fn]) => sum + concurrency(p, fn), 0);
  const table = (name: string) => (r: Rates) => r.perSecond.dynamodb[name] ?? { readUnits: 0, writeUnits: 0 };
  const putEventsRequests = (r: Rates) => r.perSecond.calls.PutEvents ?? 0;
  const stack = 'the stack (`functions/catalog.ts`, `cdk/`)';

  const limits: Limit[] = [
    {
      what: 'WebSocket stage throttle: client frames and connects a second',
      setBy: stack,
      value: deployment.stageThrottle.rateLimit,
      demand: all.map((r) => framesIn(r.perSecond) + r.connectsPerSecond) as Limit['demand'],
      awsQuota: false,
    },
    ...['send', 'ack', 'ping'].map((name) => ({
      what: `\`${name}\` route throttle`,
      setBy: stack,
      value: route(name),
      demand: all.map((r) => framesIn(r.perSecond, name)) as Limit['demand'],
      awsQuota: false,
    })),
    {
      what: '`$connect` route throttle',
      setBy: stack,
      value: route('$connect'),
      demand: [average.connectsPerSecond, peak.connectsPerSecond, deployed.result.peakAttemptsPerSecond],
      awsQuota: false,
    },
    {
      what: 'new WebSocket connections a second',
      setBy: 'AWS quota (API Gateway)',
      value: quotas.newConnections.value,
      demand: [average.connectsPerSecond, peak.connectsPerSecond, deployed.result.peakAttemptsPerSecond],
      awsQuota: true,
    },
    {
      what: 'account throttle: client frames, connects and `@connections` calls a second',
      setBy: 'AWS quota (API Gateway)',
      value: quotas.accountThrottle.value,
      demand: all.map((r) => framesIn(r.perSecond) + r.connectsPerSecond + connectionsCalls(r.perSecond)) as Limit['demand'],
      awsQuota: true,
    },
    {
      what: 'Lambda concurrency, unreserved functions (local durations)',
      setBy: 'AWS quota (Lambda), less the reservations',
      value: quotas.lambdaConcurrency.value - reservedTotal,
      demand: all.map((r) => unreserved(r.perSecond)) as Limit['demand'],
      awsQuota: true,
    },
    ...reserved.map(([fn, f]) => ({
      what: `Lambda concurrency, ${fn} (local durations)`,
      setBy: `${stack}: reserved`,
      value: f.reservedConcurrency,
      demand: all.map((r) => concurrency(r.perSecond, fn)) as Limit['demand'],
      awsQuota: false,
    })),
    ...[offlineMessagesTable, connectionsTable, sendReceiptsTable].flatMap((t) => [
      {
        what: `DynamoDB ${t.name} write units a second`,
        setBy: 'AWS quota (DynamoDB, per table)',
        value: quotas.tableWrites.value,
        demand: all.map((r) => table(t.name)(r).writeUnits) as Limit['demand'],
        awsQuota: true,
      },
      {
        what: `DynamoDB ${t.name} read units a second`,
        setBy: 'AWS quota (DynamoDB, per table)',
        value: quotas.tableReads.value,
        demand: all.map((r) => table(t.name)(r).readUnits) as Limit['demand'],
        awsQuota: true,
      },
    ]),
  ];
  const first = (column: 0 | 1 | 2, awsOnly: boolean) =>
    limits.filter((l) => !awsOnly || l.awsQuota).reduce((most, l) => (l.demand[column] / l.value > most.demand[column] / most.value ? l : most));
  const cell = (l: Limit, column: 0 | 1 | 2) => {
    const text = `${count(l.demand[column], l.demand[column] < 10 ? 1 : 0)} (${share(l.demand[column], l.value)})`;
    return first(column, false) === l || first(column, true) === l ? `**${text}**` : text;
  };
  const limitsTable: Table = {
    title:
      `Each limit against the load: at the average (${count(load.averagePerSecond)} messages a second), at the peak (${count(load.peakPerSecond)} a second), ` +
      `and in the storm (${count(load.stormClients)} clients reconnecting as the stack is deployed, messages at the average); demand a second (share of the limit), the first met in bold (overall, and of AWS's quotas)`,
    columns: ['limit', 'set by', 'limit a second', 'average', 'peak', 'storm'],
    rows: limits.map((l) => [l.what, l.setBy, count(l.value), cell(l, 0), cell(l, 1), cell(l, 2)]),
  };

  const perMessage = messageMix(profiles, false);
  const perMessageTable: Table = {
    title:
      `The per-message figures the plan is built from (the mix: ${100 - load.groupShare * 100} % private, ${round(recipientOnline * 100)} % of them to someone online, ` +
      `${load.groupShare * 100} % to groups of ${load.groupMembers}), and per connected client`,
    columns: ['', 'client frames', '`@connections` calls', 'Lambda invocations', 'Lambda busy ms', 'DynamoDB W / R', 'events (when on)'],
    rows: [
      ['a message of the mix', ...mixRow(perMessage, unitsMix(unitsOf), messageMix(profiles, true).events)],
      ['a ping (every client, every few minutes)', ...mixRow(profiles.ping, { writeUnits: 0, readUnits: 0 }, 0)],
      ['a connection (every client, every ~2 hours; every client in a storm)', ...mixRow(profiles.connection, unitsOf.connection, 0)],
    ],
  };

  const mixCost = (p: Profile, units: Units) => total(costOf(p, units, deployment));
  const groupShareOfCost =
    (load.groupShare * mixCost(profiles.group, unitsOf.group)) / mixCost(messageMix(profiles, false), unitsMix(unitsOf));
  const stormCost = total(costOf(scaled(profiles.connection, load.stormClients), { writeUnits: unitsOf.connection.writeUnits * load.stormClients, readUnits: unitsOf.connection.readUnits * load.stormClients }, deployment));
  const hotSpots = hotSpotTable(profiles, peak);
  const stormTable = stormTableOf(storms, profiles, deployment);

  const monthly = monthlyTable(profiles, deployment, timing, unitsOf);
  const increases = increasesTable(limits, storms, peakWithEvents, putEventsRequests, profiles, deployment);
  return {
    name: 'scale',
    title: 'Scale plan',
    tables: [perMessageTable, limitsTable, hotSpots, stormTable, monthly, increases],
    targets: [],
    notes: [
      'Assumptions, one a line:',
      `- ${count(load.users)} users, ${count(load.onlineAtPeak)} of them connected, held all month (an upper bound on connection minutes, pings and reconnects).`,
      `- A private message's recipient is online ${round(recipientOnline * 100)} % of the time (as many as are connected at the peak); a group's members likewise, and the measured group (all ${load.groupMembers} away) stands for every group message: a member online is pushed and acks, one away is drained and acks, the same frames and units.`,
      '- Every copy for someone away is drained on its own and acked by its own `ack`, as the measured scenarios do: an upper bound, since a drain packs a backlog into few frames, takes little longer for many messages than for one, and is acked once by bound.',
      '- Durations are the local stack\'s medians (the Lambda rows say *local durations*): the concurrency needed on AWS scales with the real durations; see each function\'s `Duration` metric once deployed.',
      `- Reconnects are the SDK's every ${round(timing.replaceAfterMs / 60_000)} minutes, spread evenly; the storm's clients all lose their connection at the same instant and come back with the SDK's backoff (${timing.minDelayMs} ms doubling to ${timing.maxDelayMs / 1000} s, full jitter), from a seeded random.`,
      `- API Gateway admits new connections through its quota (${quotas.newConnections.value} a second, ${quotas.newConnections.note}) and the \`$connect\` route's own throttle, whichever is lower; an upgrade it refuses takes no time of the client's and runs no function.`,
      `- DynamoDB units as in the Cost section: request-units' totals, and per table the probe's (${ru.measuredAt.slice(0, 10)}).`,
      `- Quotas are AWS's defaults as documented in ${quotas.newConnections.takenOn} (\`bench/quotas.ts\`): check Service Quotas for the account's own.`,
      `- ${machineLoad}`,
      'What follows from the tables:',
      `- The \`ping\` route's throttle is met by pings alone at ${count(route('ping') * (timing.pingIntervalMs / 1000))} connected clients (${route('ping')} a second × one ping per client every ${timing.pingIntervalMs / 1000} s).`,
      `- Group messages are ${load.groupShare * 100} % of the messages and ${round(groupShareOfCost * 100, 0)} % of what the messages cost: each member's copy is frames (the copy, the ack and its reply, and a drain's \`drained\` when away), its write and its ack's.`,
      `- A storm of ${count(load.stormClients)} reconnects costs about ${usd(stormCost)}, however fast it is let in: what it costs is time, concurrency and the clients' retries.`,
    ],
  };
}

function mixRow(p: Profile, units: Units, events: number): string[] {
  return [
    count(framesIn(p), 2),
    count(connectionsCalls(p), 2),
    count(Object.values(p.lambda).reduce((sum, f) => sum + f.count, 0), 2),
    count(Object.values(p.lambda).reduce((sum, f) => sum + Math.max(0, f.busyMs), 0), 1),
    `${count(units.writeUnits, 2)} / ${count(units.readUnits, 2)}`,
    events > 0 ? count(events, 2) : '–',
  ];
}

function hotSpotTable(profiles: Profiles, peak: Rates): Table {
  const w = (p: Profile, t: { name: string }) => p.dynamodb[t.name]?.writeUnits ?? 0;
  const r = (p: Profile, t: { name: string }) => p.dynamodb[t.name]?.readUnits ?? 0;
  const rows: Array<Array<string | number>> = [];
  const row = (item: string, key: string, per: string, units: number, limit: number, reaches: string) =>
    rows.push([item, key, per, count(units, 2), units > 0 ? `${count(limit / units)} ${reaches}` : 'no limit met']);
  row('a user\'s queue (OfflineMessages)', 'the recipient', 'write units per private message received (the copy, and what its ack writes)', w(profiles.offline, offlineMessagesTable), quotas.partitionWrites.value, 'messages a second to one user');
  // A send looks up its sender's and its recipient's items together: half of it is the recipient's.
  row('a user\'s connections (Connections)', 'the user', 'read units per message to them (the strongly consistent lookup)', r(profiles.online, connectionsTable) / 2, quotas.partitionReads.value, 'messages a second to one user');
  row('a user\'s connections (Connections)', 'the user', 'write units per connection (open, drain, close)', w(profiles.connection, connectionsTable), quotas.partitionWrites.value, 'connects a second of one user');
  row('a group\'s members (GroupMembers)', 'the group', `read units per message to a group of ${probeGroupMembers} (one Query of its members)`, r(profiles.group, groupMembersTable), quotas.partitionReads.value, 'messages a second to one group');
  row(`a group's copies (OfflineMessages)`, 'each member', `write units per member per group message (${probeGroupMembers} copies on ${probeGroupMembers} partitions)`, w(profiles.group, offlineMessagesTable) / probeGroupMembers, quotas.partitionWrites.value, 'messages a second to one group');
  row('a chatroom\'s members (RoomMembers)', 'the room', `read units per message to a room of ${probeRoomMembers} (membership and members)`, r(profiles.chatroom, roomMembersTable), quotas.partitionReads.value, 'messages a second to one room');
  const lease = leaseFor(rateRuleOf(defaultAppSettings));
  row('a sender\'s send-rate bucket (SendRates)', 'the sender', `write units per message (a lease of ${lease})`, 1 / lease, quotas.partitionWrites.value, `messages a second from one sender (the rate allows ${defaultAppSettings.sendRatePerSecond})`);
  // Settings are cached for 60 s per container: at most one read a minute each.
  const containers = concurrency(peak.perSecond);
  rows.push([
    'the app\'s settings (Config)',
    'the app',
    'eventually consistent reads a second at the peak: one a minute per warm container',
    count((Math.ceil(containers) * 0.5) / 60, 2),
    `${count(quotas.partitionReads.value * 120)} warm containers`,
  ]);
  return {
    title: 'Hot spots: the per-item load on one partition (1,000 write units and 3,000 read units a second each, not adjustable)',
    columns: ['item', 'partition key', 'per', 'units', 'one partition takes up to'],
    rows,
  };
}

interface StormRun {
  label: string;
  config: { rate: number; burst: number };
  result: StormResult;
}

function stormRuns(timing: SdkTiming, deployment: Deployment): StormRun[] {
  const connect = deployment.routeThrottles.$connect;
  if (!connect) throw new Error('no $connect throttle');
  const quota = quotas.newConnections.value;
  const run = (label: string, rate: number, burst: number): StormRun => ({
    label,
    config: { rate, burst },
    result: simulateStorm({ clients: load.stormClients, rate, burst, minDelayMs: timing.minDelayMs, maxDelayMs: timing.maxDelayMs }),
  });
  const runs = [
    run(`as deployed: \`$connect\` throttled at ${connect.rateLimit} a second (burst ${connect.burstLimit})`, Math.min(connect.rateLimit, quota), Math.min(connect.burstLimit, quota)),
    run(`\`$connect\` throttle raised to the default quota, ${quota} a second`, quota, quota),
  ];
  for (const rate of [1000, 2000, 5000]) runs.push(run(`quota and throttle raised to ${count(rate)} a second`, rate, rate));
  return runs;
}

function stormTableOf(storms: StormRun[], profiles: Profiles, deployment: Deployment): Table {
  const fns = ['authorizer', 'connect', 'drain'] as const;
  return {
    title:
      `A reconnect storm: ${count(load.stormClients)} clients cut off at once, coming back with the SDK's backoff; time until half, 99 % and all are connected, ` +
      'the attempts it takes, and at the admitted rate the connection path\'s Lambda concurrency (local durations; reserved in brackets) and DynamoDB units',
    columns: ['API Gateway admits', 'half', '99 %', 'all', 'upgrade attempts (most by one client)', ...fns.map((fn) => `${fn} concurrency`), 'DynamoDB W / R a second'],
    rows: storms.map(({ label, config, result }) => {
      const perSecond = scaled(profiles.connection, config.rate);
      const units = unitsIn(perSecond);
      return [
        label,
        `${count(result.connectedAtMs.half / 1000, 1)} s`,
        `${count(result.connectedAtMs.p99 / 1000, 1)} s`,
        `${count(result.connectedAtMs.all / 1000, 1)} s`,
        `${count(result.attempts)} (${result.mostAttemptsOfOneClient})`,
        ...fns.map((fn) => `${count(concurrency(perSecond, fn), 1)} (${deployment.functions[fn].reservedConcurrency ?? 'none'})`),
        `${count(units.writeUnits)} / ${count(units.readUnits)}`,
      ];
    }),
  };
}

function monthlyTable(profiles: Profiles, deployment: Deployment, timing: SdkTiming, unitsOf: { online: Units; offline: Units; group: Units; connection: Units }): Table {
  const messages = load.averagePerSecond * monthSeconds;
  const clientMonths = load.onlineAtPeak;
  const connections = (clientMonths * monthMinutes * 60_000) / timing.replaceAfterMs;
  const pings = (clientMonths * monthMinutes * 60_000) / timing.pingIntervalMs;
  const pigeonhole = (events: boolean) => {
    const month = combine(combine(scaled(messageMix(profiles, events), messages), profiles.connection, connections), profiles.ping, pings);
    const units = unitsMix(unitsOf);
    const writeUnits = messages * units.writeUnits + connections * unitsOf.connection.writeUnits;
    const readUnits = messages * units.readUnits + connections * unitsOf.connection.readUnits;
    return {
      apiMessages: monthlyCost(prices.apiGatewayMessages, month.billed.in + month.billed.out),
      apiMinutes: monthlyCost(prices.apiGatewayConnectionMinutes, clientMonths * monthMinutes),
      lambda: lambdaCost(month, deployment),
      dynamodb: monthlyCost(prices.dynamoDbWriteUnits, writeUnits) + monthlyCost(prices.dynamoDbReadUnits, readUnits),
      eventBridge: monthlyCost(prices.eventBridgeEvents, month.events),
      apiMessageCount: month.billed.in + month.billed.out,
    };
  };
  const off = pigeonhole(false);
  const on = pigeonhole(true);
  // The same messages on IoT Core and AppSync Events: a publish and one delivery per recipient.
  const mixed = messageMix(profiles, false);
  const publish = Math.ceil((mixed.frameBytes['in send'] ?? 0) / iotAndAppSyncMeteredBytes);
  const delivery = Math.ceil((mixed.frameBytes['out messages'] ?? 0) / iotAndAppSyncMeteredBytes);
  const perMessage = publish + delivery * ((1 - load.groupShare) * 1 + load.groupShare * load.groupMembers);
  const iotMessages = messages * perMessage;
  const iot = { messages: monthlyCost(prices.iotCoreMessages, iotMessages), minutes: monthlyCost(prices.iotCoreConnectionMinutes, clientMonths * monthMinutes) };
  const appSync = {
    operations: monthlyCost(prices.appSyncEventsOperations, iotMessages + clientMonths * 2),
    minutes: monthlyCost(prices.appSyncEventsConnectionMinutes, clientMonths * monthMinutes),
  };
  const sum = (c: typeof off) => c.apiMessages + c.apiMinutes + c.lambda + c.dynamodb + c.eventBridge;
  return {
    title:
      `What it costs a month (${monthDays} days) at the average, ${count(messages / 1e9, 2)} billion messages and ${count(clientMonths)} clients connected, ` +
      'at list prices with their volume tiers',
    columns: ['', 'Pigeonhole', 'with offline events', 'IoT Core', 'AppSync Events'],
    rows: [
      [`messages (${count(off.apiMessageCount / 1e9, 2)} billion API Gateway messages; ${count(iotMessages / 1e9, 2)} billion IoT Core messages or AppSync operations)`, usd(off.apiMessages), usd(on.apiMessages), usd(iot.messages), usd(appSync.operations)],
      ['connection minutes', usd(off.apiMinutes), usd(on.apiMinutes), usd(iot.minutes), usd(appSync.minutes)],
      ['Lambda (estimate)', usd(off.lambda), usd(on.lambda), '–', '–'],
      ['DynamoDB', usd(off.dynamodb), usd(on.dynamodb), '–', '† –'],
      ['EventBridge', '–', usd(on.eventBridge), '–', '–'],
      ['**a month**', `**${usd(sum(off))}**`, `**${usd(sum(on))}**`, `**${usd(iot.messages + iot.minutes)}**`, `**${usd(appSync.operations + appSync.minutes)}** †`],
    ],
  };
}

function increasesTable(
  limits: Limit[],
  storms: StormRun[],
  peakWithEvents: Rates,
  putEventsRequests: (r: Rates) => number,
  profiles: Profiles,
  deployment: Deployment,
): Table {
  /** Rounded up to two significant figures. */
  const roundUp = (value: number) => {
    const step = 10 ** Math.max(1, Math.floor(Math.log10(value)) - 1);
    return Math.ceil(value / step) * step;
  };
  /** Twice the demand: room for a busier peak than planned. */
  const headroom = (demand: number) => roundUp(demand * 2);
  const settled = storms.find((s) => s.result.connectedAtMs.all <= load.stormSettleTargetSeconds * 1000);
  const stormRate = settled?.config.rate ?? quotas.newConnections.value;
  const rows: Array<Array<string | number>> = [];
  const ask = (what: string, kind: string, from: number, to: number, why: string) => {
    if (to > from) rows.push([what, kind, count(from), count(to), why]);
  };
  ask('API Gateway: new connections per second', 'AWS quota (Service Quotas)', quotas.newConnections.value, stormRate, `the storm settles within ${load.stormSettleTargetSeconds} s (see above)`);
  const account = limits.find((l) => l.what.startsWith('account throttle'));
  if (account) ask('API Gateway: account throttle, requests per second', 'AWS quota (Service Quotas)', account.value, headroom(account.demand[1]), `${count(account.demand[1])} a second at the peak`);
  // The connection path's reservations: twice what the peak keeps busy, or three times what the storm's
  // rate does (its durations are local), whichever is more.
  const reservations = (['authorizer', 'connect', 'drain', 'disconnect'] as const).map((fn) => {
    const ms = profiles.connection.medianMs[fn] ?? 0;
    const atPeak = limits.find((l) => l.what === `Lambda concurrency, ${fn} (local durations)`)?.demand[1] ?? 0;
    const inStorm = (stormRate * ms) / 1000;
    return { fn, now: deployment.functions[fn].reservedConcurrency ?? 0, to: roundUp(Math.max(2 * atPeak, 3 * inStorm)), atPeak, inStorm, ms };
  });
  const unreserved = limits.find((l) => l.what.startsWith('Lambda concurrency, unreserved'));
  if (unreserved) {
    const reservedTotal = reservations.reduce((sum, r) => sum + Math.max(r.now, r.to), 0);
    ask('Lambda: concurrent executions', 'AWS quota (Service Quotas)', quotas.lambdaConcurrency.value, roundUp(unreserved.demand[1] * 3 + reservedTotal),
      `${count(unreserved.demand[1])} at the peak with local durations, three times over (Lambda's may be longer), and the reservations below`);
  }
  for (const t of [offlineMessagesTable, connectionsTable]) {
    const writes = limits.find((l) => l.what === `DynamoDB ${t.name} write units a second`);
    if (writes) ask(`DynamoDB: ${t.name} write units per second`, 'AWS quota, and warm throughput on the table', quotas.tableWrites.value, headroom(writes.demand[1]), `${count(writes.demand[1])} a second at the peak`);
  }
  const events = putEventsRequests(peakWithEvents);
  ask('EventBridge: PutEvents requests per second (with offline events)', 'AWS quota (Service Quotas)', quotas.putEvents.value, headroom(events), `${count(events)} a second at the peak`);
  for (const name of ['send', 'ack', 'ping', '$connect'] as const) {
    const limit = limits.find((l) => l.what === `\`${name}\` route throttle`);
    const demand = name === '$connect' ? stormRate : (limit?.demand[1] ?? 0);
    const now = deployment.routeThrottles[name]?.rateLimit ?? 0;
    ask(`\`${name}\` route throttle`, 'the stack: `functions/catalog.ts`', now, name === '$connect' ? demand : headroom(demand), name === '$connect' ? 'as the connection quota' : `${count(demand)} a second at the peak`);
  }
  const stage = limits.find((l) => l.what.startsWith('WebSocket stage throttle'));
  if (stage) ask('WebSocket stage throttle', 'the stack: `PigeonholeStack` `throttle`', stage.value, headroom(stage.demand[1]), `${count(stage.demand[1])} a second at the peak`);
  for (const r of reservations) {
    ask(`reserved concurrency, ${r.fn}`, 'the stack: `-c reservedConcurrency=…`', r.now, r.to,
      `${count(r.atPeak, 1)} busy at the peak; ${count(stormRate)} connects a second × ${count(r.ms, 1)} ms in a storm (local durations)`);
  }
  return {
    title: 'What to ask AWS for, and what to change in the stack, before this load: each to twice the peak\'s demand, rounded up, unless its reason says otherwise',
    columns: ['what', 'where', 'now', 'to', 'why'],
    rows,
  };
}

// --- Main -------------------------------------------------------------------------------------------

function probe(offlineEvents: boolean): ProbeOutput {
  process.stderr.write(`  cost probe: offline events ${offlineEvents ? 'on' : 'off'}…\n`);
  const output = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--probe', offlineEvents ? 'on' : 'off'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as ProbeOutput;
}

async function main(): Promise<void> {
  const probeArg = process.argv.indexOf('--probe');
  if (probeArg >= 0) {
    const output = await runProbe(process.argv[probeArg + 1] === 'on');
    process.stdout.write(`${JSON.stringify(output)}\n`);
    return;
  }

  process.stderr.write('  reading the deployment from the synthesized stack…\n');
  const deployment = readDeployment();
  let probes: { off: ProbeOutput; on: ProbeOutput };
  if (process.argv.includes('--reuse')) {
    probes = JSON.parse(readFileSync(probeFile, 'utf8')) as typeof probes;
  } else {
    probes = { off: probe(false), on: probe(true) };
    writeFileSync(probeFile, `${JSON.stringify(probes)}\n`);
  }
  const profiles = profilesOf(probes.off, probes.on);
  const loads = [...(probes.off.load ?? [Number.NaN]), ...(probes.on.load ?? [Number.NaN])].map((l) => round(l, 1));
  const machineLoad = `The machine's load average was between ${Math.min(...loads)} and ${Math.max(...loads)} while the probes ran (other work shares it): durations stretch with it.`;
  const ru = readRequestUnits();
  const timing = sdkTiming();
  const unitsOf = {
    offline: plusReads(ru.of('offline private, 1 message'), unreportedReads.offline),
    online: ru.of('online private'),
    group: plusReads(ru.of('group message to 100 offline members (all copies)'), unreportedReads.group),
    chatroom: ru.of('chatroom message to 100 online members'),
    // request-units' row stops before `$disconnect`: its units come from the probe.
    connection: plusUnits(plusReads(ru.of('a connection, once (connect, empty drain)'), unreportedReads.connection), unitsIn(profiles.disconnection)),
  };
  const scenarios: Scenario[] = [
    { name: 'offline private message', profile: profiles.offline, units: unitsOf.offline, recipients: 1, needsStore: true, offlineEvents: false },
    { name: 'the same, with offline events', profile: profiles.offlineWithEvents, units: unitsOf.offline, recipients: 1, needsStore: true, offlineEvents: true },
    { name: 'online private message', profile: profiles.online, units: unitsOf.online, recipients: 1, needsStore: false, offlineEvents: false },
    { name: `group message, ${probeGroupMembers} members away`, profile: profiles.group, units: unitsOf.group, recipients: probeGroupMembers, needsStore: true, offlineEvents: false },
    { name: 'the same, with offline events', profile: profiles.groupWithEvents, units: unitsOf.group, recipients: probeGroupMembers, needsStore: true, offlineEvents: true },
    { name: `chatroom message, ${probeRoomMembers} members online`, profile: profiles.chatroom, units: unitsOf.chatroom, recipients: probeRoomMembers, needsStore: false, offlineEvents: false },
  ];
  const idle = idleMonth(profiles, unitsOf.connection, timing, deployment);
  report(costSection(scenarios, idle, profiles, deployment, timing, ru, machineLoad));
  report(scaleSection(profiles, deployment, timing, ru, unitsOf, machineLoad));
}

await main();
