/**
 * A smoke test for any deployment (SPEC §1, §4, §5, §7): the few things a user would notice first,
 * tried once against a real WebSocket URL and admin API, each reported as held or not. It is neither
 * a test (it runs against an account, not the local stack alone) nor a benchmark, nor part of the
 * `pigeonhole` admin CLI, so it has a folder of its own; it reuses the CLI's admin client and signing.
 *
 * It leaves nothing behind that matters: two users and a group named `smoke-<run>-…`, the group
 * deleted and the user setting cleared at the end, the message acknowledged.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { adminRoutes, type OfflineSummaryResponse, type TokenResponse, type UserConfigResponse } from '../lib/admin/admin-api';
import type { GroupResponse } from '../lib/groups/admin-groups';
import type { AdminClient } from '../cli/admin-client';

export interface SmokeOptions {
  wsUrl: string;
  admin: AdminClient;
  /** How long to wait for each frame; API Gateway and a cold Lambda can take seconds. */
  timeoutMs?: number;
}

export interface Check {
  name: string;
  held: boolean;
  /** False for a step skipped because an earlier one failed. */
  ran: boolean;
  detail: string;
  ms: number;
}

type Frame = Record<string, unknown>;

/** A WebSocket that keeps every frame, so that a step can wait for the one it expects. */
class SmokeClient {
  private readonly frames: Frame[] = [];
  private readonly waiters = new Set<() => void>();
  private closedWith: number | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      try {
        this.frames.push(JSON.parse(data.toString()) as Frame);
      } catch {
        this.frames.push({ unparsable: data.toString() });
      }
      for (const wake of this.waiters) wake();
    });
    socket.on('close', (code) => {
      this.closedWith = code;
      for (const wake of this.waiters) wake();
    });
    socket.on('error', () => undefined);
  }

  static open(wsUrl: string, token: string, timeoutMs: number): Promise<SmokeClient> {
    const url = new URL(wsUrl);
    url.searchParams.set('token', token);
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      const client = new SmokeClient(socket);
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        reject(new Error(`the upgrade was refused with HTTP ${response.statusCode ?? '?'}`));
        socket.terminate();
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  send(frame: Frame): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** The first frame, received or to come, that matches; it is taken out of the kept ones. */
  async next(match: (frame: Frame) => boolean, timeoutMs: number, what: string): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0] as Frame;
      if (this.closedWith !== undefined) throw new Error(`the connection closed (${this.closedWith}) before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 300)}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Sends a frame and waits for the reply that echoes its requestId. */
  async request(frame: Frame, timeoutMs: number): Promise<Frame> {
    const requestId = randomUUID().slice(0, 8);
    this.send({ ...frame, requestId });
    const reply = await this.next((f) => f.requestId === requestId, timeoutMs, `reply to ${String(frame.action)}`);
    if (reply.type === 'error') throw new Error(`${String(frame.action)} answered ${String(reply.code)}: ${String(reply.message)}`);
    return reply;
  }

  /** The message with this id, from the `messages` frames received or to come. */
  async message(id: string, timeoutMs: number): Promise<Frame> {
    const frame = await this.next(
      (f) => f.type === 'messages' && (f.messages as Frame[]).some((m) => m.id === id),
      timeoutMs,
      `message ${id}`,
    );
    return (frame.messages as Frame[]).find((m) => m.id === id) as Frame;
  }

  close(): void {
    this.socket.close(1000);
  }
}

/** Runs the scenario; every step after a failed one is reported as not run. */
export async function runSmoke(options: SmokeOptions): Promise<Check[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const { admin, wsUrl } = options;
  const run = randomBytes(4).toString('hex');
  const alice = `smoke-${run}-a`;
  const bob = `smoke-${run}-b`;
  const groupId = `smoke-${run}-g`;
  const checks: Check[] = [];
  const clients: SmokeClient[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  let failed = false;

  const step = async (name: string, work: () => Promise<string>): Promise<void> => {
    if (failed) {
      checks.push({ name, held: false, ran: false, detail: 'not run: an earlier step failed', ms: 0 });
      return;
    }
    const started = Date.now();
    try {
      checks.push({ name, held: true, ran: true, detail: await work(), ms: Date.now() - started });
    } catch (error) {
      failed = true;
      checks.push({ name, held: false, ran: true, detail: (error as Error).message, ms: Date.now() - started });
    }
  };

  const tokens = new Map<string, string>();
  let aliceClient: SmokeClient | undefined;
  let bobClient: SmokeClient | undefined;
  let offlineId = '';
  try {
    await step('tokens from POST /v1/tokens', async () => {
      for (const userId of [alice, bob]) {
        const answer = await admin.call<TokenResponse>(adminRoutes.createToken, { body: { userId, ttlSeconds: 600 } });
        tokens.set(userId, answer.token);
      }
      return `for ${alice} and ${bob}`;
    });
    await step('alice connects', async () => {
      aliceClient = await SmokeClient.open(wsUrl, tokens.get(alice) ?? '', timeoutMs);
      clients.push(aliceClient);
      const pong = await aliceClient.request({ action: 'ping' }, timeoutMs);
      return `ping answered ${String(pong.type)}`;
    });
    await step('an offline message is stored', async () => {
      const sent = await (aliceClient as SmokeClient).request(
        { action: 'send', type: 'private', target: bob, clientMsgId: `smoke-${run}-1`, body: { text: 'while you were away' } },
        timeoutMs,
      );
      if (sent.status !== 'accepted') throw new Error(`send answered ${JSON.stringify(sent)}`);
      offlineId = String(sent.id);
      const queue = await admin.call<OfflineSummaryResponse>(adminRoutes.getUserOffline, { id: bob });
      if (queue.count !== 1) throw new Error(`bob's queue holds ${queue.count} messages, not 1`);
      return `accepted as ${offlineId}; bob's queue holds 1`;
    });
    await step('the drain delivers it when bob connects', async () => {
      const connected = Date.now();
      bobClient = await SmokeClient.open(wsUrl, tokens.get(bob) ?? '', timeoutMs);
      clients.push(bobClient);
      const message = await bobClient.message(offlineId, timeoutMs);
      if (message.from !== alice) throw new Error(`the message came from ${String(message.from)}`);
      return `received ${Date.now() - connected} ms after connecting`;
    });
    await step('the ack removes it', async () => {
      const acked = await (bobClient as SmokeClient).request({ action: 'ack', ids: [offlineId] }, timeoutMs);
      if (!(acked.ids as string[]).includes(offlineId)) throw new Error(`ack answered ${JSON.stringify(acked)}`);
      const queue = await admin.call<OfflineSummaryResponse>(adminRoutes.getUserOffline, { id: bob });
      if (queue.count !== 0) throw new Error(`bob's queue still holds ${queue.count}`);
      return "bob's queue is empty";
    });
    await step('a setting changed through the admin API holds', async () => {
      cleanups.push(() => admin.call(adminRoutes.deleteUserConfig, { id: bob }));
      await admin.call<UserConfigResponse>(adminRoutes.putUserConfig, { id: bob, body: { offlineMessageDurationDays: 3 } });
      const read = await admin.call<UserConfigResponse>(adminRoutes.getUserConfig, { id: bob });
      if (read.offlineMessageDurationDays !== 3) throw new Error(`read back ${JSON.stringify(read)}`);
      return `bob's offline duration is 3 days (in force: ${read.inForce.days} from ${read.inForce.source})`;
    });
    await step('a group message reaches the other member', async () => {
      cleanups.push(() => admin.call(adminRoutes.deleteGroup, { id: groupId }));
      const group = await admin.call<GroupResponse>(adminRoutes.putGroup, { id: groupId, body: { members: [alice, bob] } });
      if (group.memberCount !== 2) throw new Error(`the group has ${group.memberCount} members`);
      const sent = await (aliceClient as SmokeClient).request(
        { action: 'send', type: 'group', target: groupId, clientMsgId: `smoke-${run}-2`, body: { text: 'hello, group' } },
        timeoutMs,
      );
      const pushed = Date.now();
      await (bobClient as SmokeClient).message(String(sent.id), timeoutMs);
      await (bobClient as SmokeClient).request({ action: 'ack', ids: [String(sent.id)] }, timeoutMs);
      return `pushed to bob ${Date.now() - pushed} ms after it was accepted`;
    });
  } finally {
    for (const client of clients) client.close();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
  return checks;
}

export function report(wsUrl: string, checks: readonly Check[]): string {
  const width = Math.max(...checks.map((check) => check.name.length));
  const status = (check: Check) => (check.held ? 'held  ' : check.ran ? 'FAILED' : '-     ');
  const lines = checks.map((check) => `  ${status(check)}  ${check.name.padEnd(width)}  ${check.detail}${check.ran ? ` (${check.ms} ms)` : ''}`);
  const held = checks.filter((check) => check.held).length;
  return [`Smoke test against ${wsUrl}`, ...lines, `${held} of ${checks.length} held.`].join('\n');
}
