/**
 * The cost benchmark's measurements on the local stack, driven through the client SDK as an app drives
 * it (its acks, its pings), so that what is counted follows the protocol as the SDK speaks it:
 * - WebSocket frames at the client, both ways, with their sizes (API Gateway bills each 32 KB);
 * - every handler invocation and how long it ran (Lambda bills requests and GB-seconds);
 * - every AWS call the handlers make besides DynamoDB (`@connections`, PutEvents, SQS, Lambda), and
 *   DynamoDB's units by table (for the scale plan's hot spots; the costs use bench/request-units.ts).
 *
 * Each scenario runs a few times; every sample covers one message (one connection, one ping) and
 * whatever connections it had to open for it, so that bench/cost.ts can take those out again.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import WebSocket from 'ws';
import { PigeonholeClient, type ClientOptions, type Message, type WebSocketLike } from '../client/index';
import { hookPlugin, type ClientPlugin } from '../lib/aws/client-plugins';
import { tables } from '../lib/tables';
import { LocalLambdaService } from '../local/lambda-service';
import type { LambdaHandler } from '../local/lambda-runtime';
import type { RequestMeter } from '../local/request-meter';
import type { LocalStack } from '../local/stack';
import { bodyOfBytes, startBenchStack } from './support';

export interface Invocation {
  fn: string;
  ms: number;
}

export interface FrameRecord {
  /** As API Gateway sees it: `in` from the client, `out` to it. */
  direction: 'in' | 'out';
  /** The frame's `action` (in) or `type` (out). */
  kind: string;
  bytes: number;
  /** It answers a client frame (a route response: it echoes `requestId`), rather than being posted. */
  reply: boolean;
}

export interface CallRecord {
  /** `PostToConnection`, `PutEvents`, `SendMessage`, `Invoke`… */
  command: string;
  /** For PutEvents: the size of each entry. */
  entryBytes: number[];
}

export interface Sample {
  /** What the sample covers: 1 message, 1 connection, or this many pings. */
  units: number;
  /** Connections opened (and closed) within the sample, to take out of a message's figures. */
  connections: number;
  invocations: Invocation[];
  frames: FrameRecord[];
  calls: CallRecord[];
  /** By table (the catalog's name), as DynamoDB Local reports them. */
  dynamodb: Record<string, { readUnits: number; writeUnits: number }>;
  /**
   * How long an empty drain took just before (another user's connection, in the same repetition):
   * what a drain of the message took beyond it is the message's, measured side by side so that the
   * machine's load, which changes by the minute, falls on both alike.
   */
  baselineDrainMs?: number;
}

export type ScenarioName = 'connection' | 'disconnection' | 'offline' | 'online' | 'group' | 'chatroom' | 'ping';

export interface ProbeOutput {
  offlineEvents: boolean;
  /** The machine's one-minute load average before and after: other work on it stretches every duration. */
  load: [number, number];
  bodyBytes: number;
  groupMembers: number;
  roomMembers: number;
  scenarios: Partial<Record<ScenarioName, Sample[]>>;
}

export const probeBodyBytes = 200;
export const probeGroupMembers = 100;
export const probeRoomMembers = 100;
/** Long enough for the SDK's ack (sent within 100 ms of a message) and its reply to be counted. */
const quietMs = 250;

/** What every sample records, gathered from the patched runtime, the sockets and the SDK plugin. */
class Recorder {
  invocations: Invocation[] = [];
  frames: FrameRecord[] = [];
  calls: CallRecord[] = [];
  inFlight = 0;
  lastActivity = performance.now();

  frame(direction: 'in' | 'out', text: string): void {
    this.lastActivity = performance.now();
    let parsed: { action?: unknown; type?: unknown; requestId?: unknown } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // Counted all the same: API Gateway bills what it carries.
    }
    const kind = String((direction === 'in' ? parsed.action : parsed.type) ?? 'unknown');
    this.frames.push({ direction, kind, bytes: Buffer.byteLength(text), reply: direction === 'out' && parsed.requestId !== undefined });
  }

  take(): Pick<Sample, 'invocations' | 'frames' | 'calls'> {
    const taken = { invocations: this.invocations, frames: this.frames, calls: this.calls };
    this.invocations = [];
    this.frames = [];
    this.calls = [];
    return taken;
  }
}

const recorder = new Recorder();

/**
 * Times every handler the local stack runs: the runtime calls `fn.handler` of the very objects it is
 * configured with (the gateway's routes, the queue's worker and the admin routes hold the same ones),
 * so wrapping them there times every invocation, whoever makes it.
 */
function timeHandlers(): void {
  const configure = LocalLambdaService.prototype.configure;
  LocalLambdaService.prototype.configure = function (this: LocalLambdaService, functions) {
    for (const fn of functions) {
      const handler: LambdaHandler = fn.handler;
      fn.handler = async (event, context) => {
        recorder.inFlight += 1;
        recorder.lastActivity = performance.now();
        const started = performance.now();
        try {
          return await handler(event, context);
        } finally {
          recorder.invocations.push({ fn: fn.name, ms: performance.now() - started });
          recorder.inFlight -= 1;
          recorder.lastActivity = performance.now();
        }
      };
    }
    configure.call(this, functions);
  };
}

/** Counts the handlers' AWS calls other than DynamoDB's (the request meter has those). */
const callCounter: ClientPlugin = hookPlugin(
  ({ client, command, input }, next) => {
    if (client !== 'DynamoDBClient') {
      const entries = (input as { Entries?: unknown[] }).Entries ?? [];
      recorder.calls.push({
        command: command.replace(/Command$/, ''),
        entryBytes: command === 'PutEventsCommand' ? entries.map((entry) => Buffer.byteLength(JSON.stringify(entry))) : [],
      });
      recorder.lastActivity = performance.now();
    }
    return next();
  },
  { step: 'initialize', name: 'pigeonholeCostProbeCalls', priority: 'high' },
);

/** A `ws` socket that records every frame it carries, for the SDK's `WebSocket` option. */
class CountingSocket implements WebSocketLike {
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: never) => void) | null = null;
  onclose: ((event: never) => void) | null = null;
  onerror: ((event: never) => void) | null = null;
  private readonly socket: WebSocket;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.onopen = (event) => this.onopen?.(event as never);
    this.socket.onclose = (event) => this.onclose?.(event as never);
    this.socket.onerror = (event) => this.onerror?.(event as never);
    // `ws` hands text frames over as strings; API Gateway sends nothing else.
    this.socket.onmessage = (event) => {
      if (typeof event.data === 'string') recorder.frame('out', event.data);
      this.onmessage?.(event as never);
    };
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string): void {
    recorder.frame('in', data);
    this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }
}

class Probe {
  private readonly tableNames: Map<string, string>;

  constructor(
    private readonly stack: LocalStack,
    private readonly meter: RequestMeter,
  ) {
    this.tableNames = new Map(tables.map((table) => [stack.tableName(table), table.name]));
  }

  client(userId: string, options: Partial<ClientOptions> = {}): PigeonholeClient {
    return new PigeonholeClient({ url: this.stack.wsUrl, token: () => this.stack.issueToken(userId), WebSocket: CountingSocket, ...options });
  }

  /** Resolves once nothing has run, been sent or been called for a while: the scenario's last ack is in. */
  async quiet(): Promise<void> {
    const deadline = performance.now() + 60_000;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      if (recorder.inFlight === 0 && performance.now() - recorder.lastActivity >= quietMs) return;
      if (performance.now() > deadline) throw new Error('the local stack did not go quiet within a minute');
    }
  }

  take(units: number, connections: number): Sample {
    const metered = this.meter.take();
    const dynamodb = Object.fromEntries(Object.entries(metered.byTable).map(([table, units]) => [this.tableNames.get(table) ?? table, units]));
    return { units, connections, ...recorder.take(), dynamodb };
  }

  async admin(method: string, path: string, body: unknown): Promise<void> {
    const response = await fetch(`${this.stack.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  }

  /** A client of this user, once its connection is open. */
  async connected(userId: string, options: Partial<ClientOptions> = {}): Promise<PigeonholeClient> {
    const client = this.client(userId, options);
    await client.connect();
    return client;
  }
}

function firstMessage(client: PigeonholeClient): Promise<Message> {
  return new Promise((resolve) => {
    const off = client.on('message', (message) => {
      off();
      resolve(message);
    });
  });
}

const id = () => randomUUID().slice(0, 8);

async function connectionScenarios(probe: Probe, repetitions: number): Promise<{ connection: Sample[]; disconnection: Sample[] }> {
  const connection: Sample[] = [];
  const disconnection: Sample[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const client = probe.client(`idle-${id()}`);
    await probe.quiet();
    probe.take(0, 0);
    await client.connect();
    await probe.quiet();
    connection.push(probe.take(1, 0));
    await client.close();
    await probe.quiet();
    disconnection.push(probe.take(1, 0));
  }
  return { connection, disconnection };
}

/** How long the drain of a connection with nothing queued takes, now: another user's, connected and closed. */
async function emptyDrainMs(probe: Probe): Promise<number> {
  const client = await probe.connected(`empty-${id()}`);
  await probe.quiet();
  await client.close();
  await probe.quiet();
  return probe.take(0, 0).invocations.find((invocation) => invocation.fn === 'drain')?.ms ?? Number.NaN;
}

/** A private message to a user who is away, then their connect, drain and ack, then their close. */
async function offlineScenario(probe: Probe, repetitions: number, body: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  const sender = await probe.connected(`sender-${id()}`);
  await probe.quiet();
  probe.take(0, 0);
  for (let i = 0; i < repetitions; i += 1) {
    const baselineDrainMs = await emptyDrainMs(probe);
    const recipientId = `away-${id()}`;
    await sender.send({ type: 'private', target: recipientId, body });
    await probe.quiet();
    const recipient = probe.client(recipientId);
    const received = firstMessage(recipient);
    await recipient.connect();
    await received;
    await probe.quiet();
    await recipient.close();
    await probe.quiet();
    samples.push({ ...probe.take(1, 1), baselineDrainMs });
  }
  await sender.close();
  await probe.quiet();
  probe.take(0, 0);
  return samples;
}

async function onlineScenario(probe: Probe, repetitions: number, body: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  const recipientId = `here-${id()}`;
  const sender = await probe.connected(`sender-${id()}`);
  const recipient = await probe.connected(recipientId);
  recipient.on('message', () => undefined);
  await probe.quiet();
  probe.take(0, 0);
  for (let i = 0; i < repetitions; i += 1) {
    const received = firstMessage(recipient);
    await sender.send({ type: 'private', target: recipientId, body });
    await received;
    await probe.quiet();
    samples.push(probe.take(1, 0));
  }
  await Promise.all([sender.close(), recipient.close()]);
  await probe.quiet();
  probe.take(0, 0);
  return samples;
}

/** A group message to members who are all away; then each member, one at a time, connects, drains, acks and leaves. */
async function groupScenario(probe: Probe, repetitions: number, body: string, members: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const senderId = `lead-${id()}`;
    const groupId = `g-${id()}`;
    const memberIds = Array.from({ length: members }, (_, m) => `${senderId}-m${m}`);
    await probe.admin('PUT', `/groups/${groupId}`, { members: [senderId, ...memberIds] });
    const sender = await probe.connected(senderId);
    await probe.quiet();
    probe.take(0, 0);
    await sender.send({ type: 'group', target: groupId, body });
    await probe.quiet();
    for (const memberId of memberIds) {
      const member = probe.client(memberId);
      const received = firstMessage(member);
      await member.connect();
      await received;
      await probe.quiet();
      await member.close();
      await probe.quiet();
    }
    samples.push(probe.take(1, members));
    await sender.close();
    await probe.quiet();
    probe.take(0, 0);
  }
  return samples;
}

/** A chatroom message to `members` connected members (joined beforehand: joining is the connections' cost). */
async function chatroomScenario(probe: Probe, repetitions: number, body: string, members: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < repetitions; i += 1) {
    const roomId = `room-${id()}`;
    const speakerId = `speaker-${id()}`;
    const userIds = [speakerId, ...Array.from({ length: members }, (_, m) => `${speakerId}-l${m}`)];
    const clients = await Promise.all(userIds.map((userId) => probe.connected(userId)));
    const [speaker, ...listeners] = clients;
    if (!speaker) throw new Error('no speaker');
    await Promise.all(clients.map((client) => client.joinRoom(roomId)));
    await probe.quiet();
    probe.take(0, 0);
    const received = Promise.all(listeners.map((listener) => firstMessage(listener)));
    await speaker.send({ type: 'chatroom', target: roomId, body });
    await received;
    await probe.quiet();
    samples.push(probe.take(1, 0));
    await Promise.all(clients.map((client) => client.close()));
    await probe.quiet();
    probe.take(0, 0);
  }
  return samples;
}

/** The SDK's own keep-alive, at a shorter interval than its default so that a few come in seconds. */
async function pingScenario(probe: Probe): Promise<Sample[]> {
  const intervalMs = 500;
  const pings = 10;
  const client = await probe.connected(`pinger-${id()}`, { pingIntervalMs: intervalMs });
  await probe.quiet();
  probe.take(0, 0);
  // Half an interval past the last ping: its pong is in, the next ping not yet out.
  await new Promise((resolve) => setTimeout(resolve, intervalMs * pings + intervalMs / 2 - quietMs));
  const sample = probe.take(0, 0);
  sample.units = sample.frames.filter((frame) => frame.direction === 'in').length;
  await client.close();
  await probe.quiet();
  probe.take(0, 0);
  return [sample];
}

/** Runs every scenario on a fresh local stack (history and recent conversations off), offline events on or off. */
export async function runProbe(offlineEvents: boolean): Promise<ProbeOutput> {
  const loadBefore = loadavg()[0] ?? 0;
  timeHandlers();
  const { stack, meter } = await startBenchStack({ history: false, settingsCacheSeconds: 60, plugins: [callCounter] });
  try {
    const probe = new Probe(stack, meter);
    // Before any function has read the settings, so that every cache starts with these, as request-units does.
    await probe.admin('PATCH', '/config', { recentConversationsEnabled: false, offlineEventsEnabled: offlineEvents });
    const body = bodyOfBytes(probeBodyBytes);
    // Warm every function on the path, as a warm Lambda container is.
    await onlineScenario(probe, 2, body);
    await offlineScenario(probe, 1, body);
    const scenarios: ProbeOutput['scenarios'] = {};
    if (offlineEvents) {
      scenarios.offline = await offlineScenario(probe, 20, body);
      scenarios.group = await groupScenario(probe, 1, body, probeGroupMembers);
    } else {
      Object.assign(scenarios, await connectionScenarios(probe, 20));
      scenarios.offline = await offlineScenario(probe, 20, body);
      scenarios.online = await onlineScenario(probe, 20, body);
      scenarios.group = await groupScenario(probe, 1, body, probeGroupMembers);
      scenarios.chatroom = await chatroomScenario(probe, 3, body, probeRoomMembers);
      scenarios.ping = await pingScenario(probe);
    }
    return { offlineEvents, load: [loadBefore, loadavg()[0] ?? 0], bodyBytes: probeBodyBytes, groupMembers: probeGroupMembers, roomMembers: probeRoomMembers, scenarios };
  } finally {
    await stack.stop();
  }
}
