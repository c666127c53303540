/**
 * The load run: many connections held open at once, each pinging now and then, with light traffic
 * between them (a sender picked at random sends a qos-1 message to another, who acks it). It counts
 * every error: a refused or failed connection, one closed while it should be held, a ping without its
 * pong, a send not accepted, a message never delivered. `npm run test:load` runs 1,000 connections
 * for 60 s; test/load/load.test.ts a shorter run.
 */
import { readFileSync } from 'node:fs';
import { percentile } from '../../bench/support';
import { TestClient } from '../support/client';

export interface LoadOptions {
  wsUrl: string;
  token(userId: string): Promise<string>;
  runId: string;
  connections: number;
  holdMs: number;
  /** Each connection pings about this often. */
  pingEveryMs: number;
  /** Messages a second, across all connections. */
  messagesPerSecond: number;
  /** Connections opened at once while the run starts. */
  openConcurrency: number;
  /** Samples memory, in MB by what it measures, every few seconds. */
  sampleMemory: () => Record<string, number>;
  onProgress?: (line: string) => void;
}

export interface LoadReport {
  connections: number;
  openMs: number;
  heldMs: number;
  pings: number;
  pingP50Ms: number;
  pingP99Ms: number;
  sent: number;
  delivered: number;
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  errors: string[];
  /** Peak and last sample of each memory figure, MB. */
  memory: Record<string, { peak: number; last: number }>;
}

const replyTimeoutMs = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const errors: string[] = [];
  const error = (what: string) => {
    if (errors.length < 50) errors.push(what);
    else if (errors.length === 50) errors.push('… (more errors not listed)');
  };
  const userIds = Array.from({ length: options.connections }, (_, i) => `${options.runId}-${i}`);
  const clients: TestClient[] = [];
  /** When each accepted message was sent, and when each message first arrived. */
  const sentAt = new Map<string, number>();
  const arrivedAt = new Map<string, number>();
  const pingMs: number[] = [];
  let holding = false;
  const memory: LoadReport['memory'] = {};
  const sample = () => {
    for (const [name, mb] of Object.entries(options.sampleMemory())) {
      const figure = (memory[name] ??= { peak: 0, last: 0 });
      figure.peak = Math.max(figure.peak, mb);
      figure.last = mb;
    }
  };
  sample();
  const sampler = setInterval(sample, 2000);

  const open = async (i: number) => {
    const userId = userIds[i] as string;
    const client = await TestClient.connect(`${options.wsUrl}/?token=${await options.token(userId)}`, {
      onFrame: (frame, from) => {
        if (frame.type !== 'messages') return undefined;
        const ids = (frame.messages as Array<{ id: string }>).map((message) => message.id);
        for (const id of ids) if (!arrivedAt.has(id)) arrivedAt.set(id, Date.now());
        from.send({ action: 'ack', ids });
        return 'handled';
      },
    });
    void client.closed.then(({ code }) => {
      if (holding) error(`${userId}: closed by the server while held (${code})`);
    });
    clients[i] = client;
  };

  const started = Date.now();
  try {
    let next = 0;
    let opened = 0;
    await Promise.all(
      Array.from({ length: options.openConcurrency }, async () => {
        while (next < options.connections) {
          const i = next++;
          await open(i).catch((e: Error) => error(`${userIds[i]}: could not connect: ${e.message}`));
          if (++opened % 100 === 0) options.onProgress?.(`opened ${opened}/${options.connections}`);
        }
      }),
    );
    const openMs = Date.now() - started;
    holding = true;
    const holdStarted = Date.now();
    const holdUntil = holdStarted + options.holdMs;

    const pinger = async (client: TestClient, i: number) => {
      const pause = async (ms: number) => sleep(Math.min(ms, Math.max(0, holdUntil - Date.now())));
      await pause(Math.random() * options.pingEveryMs);
      while (Date.now() < holdUntil) {
        const at = performance.now();
        try {
          const reply = await client.request({ action: 'ping' }, replyTimeoutMs);
          if (reply.type === 'pong') pingMs.push(performance.now() - at);
          else error(`${userIds[i]}: ping answered ${JSON.stringify(reply)}`);
        } catch (e) {
          error(`${userIds[i]}: ping failed: ${(e as Error).message.slice(0, 120)}`);
          return;
        }
        await pause(options.pingEveryMs * (0.5 + Math.random()));
      }
    };

    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    const sender = async () => {
      let n = 0;
      while (Date.now() < holdUntil) {
        await sleep(1000 / options.messagesPerSecond);
        const from = Math.floor(Math.random() * clients.length);
        let to = Math.floor(Math.random() * (clients.length - 1));
        if (to >= from) to += 1;
        const client = clients[from];
        if (!client) continue;
        n += 1;
        const at = Date.now();
        const sending = client
          .request({ action: 'send', type: 'private', target: userIds[to], clientMsgId: `load-${n}`, body: { n, padding: 'x'.repeat(100) } }, replyTimeoutMs)
          .then((reply) => {
            if (reply.status === 'accepted') sentAt.set(reply.id as string, at);
            else error(`send ${n}: ${JSON.stringify(reply)}`);
          })
          .catch((e: Error) => error(`send ${n}: ${e.message.slice(0, 120)}`));
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
        sent += 1;
      }
    };

    const ticker = setInterval(() => options.onProgress?.(`held ${Math.round((Date.now() - holdStarted) / 1000)} s of ${options.holdMs / 1000}`), 5000);
    await Promise.all([...clients.map((client, i) => (client ? pinger(client, i) : undefined)), sender()]);
    clearInterval(ticker);
    const heldMs = Date.now() - holdStarted;

    // Let the last replies and pushes land, then count what never arrived.
    await Promise.all(inFlight);
    const missing = () => [...sentAt.keys()].filter((id) => !arrivedAt.has(id));
    const deadline = Date.now() + 5000;
    while (missing().length > 0 && Date.now() < deadline) await sleep(100);
    for (const id of missing()) error(`message ${id} was accepted but never delivered`);
    const deliveryMs = [...sentAt].flatMap(([id, at]) => (arrivedAt.has(id) ? [(arrivedAt.get(id) as number) - at] : []));
    holding = false;
    sample();

    return {
      connections: clients.filter(Boolean).length,
      openMs,
      heldMs,
      pings: pingMs.length,
      pingP50Ms: percentile(pingMs, 50),
      pingP99Ms: percentile(pingMs, 99),
      sent,
      delivered: deliveryMs.length,
      deliveryP50Ms: percentile(deliveryMs, 50),
      deliveryP99Ms: percentile(deliveryMs, 99),
      errors,
      memory,
    };
  } finally {
    holding = false;
    clearInterval(sampler);
    await Promise.all(clients.map((client) => client?.close()));
  }
}

/** Memory of this process and, when given, of another (DynamoDB Local's Java), in MB. */
export function memorySampler(otherPid?: number, otherName = 'DynamoDB Local RSS'): () => Record<string, number> {
  return () => {
    const usage = process.memoryUsage();
    const figures: Record<string, number> = { 'Node RSS': mb(usage.rss), 'Node heap used': mb(usage.heapUsed) };
    const other = otherPid === undefined ? undefined : rssOf(otherPid);
    if (other !== undefined) figures[otherName] = other;
    return figures;
  };
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

function rssOf(pid: number): number | undefined {
  try {
    // Linux: VmRSS in kB.
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

export function formatLoadReport(report: LoadReport): string {
  const rows: Array<[string, string]> = [
    ['connections held', String(report.connections)],
    ['time to open them all', `${(report.openMs / 1000).toFixed(1)} s`],
    ['held for', `${(report.heldMs / 1000).toFixed(1)} s`],
    ['pings answered', `${report.pings} (p50 ${report.pingP50Ms.toFixed(1)} ms, p99 ${report.pingP99Ms.toFixed(1)} ms)`],
    ['messages sent / delivered', `${report.sent} / ${report.delivered} (p50 ${report.deliveryP50Ms} ms, p99 ${report.deliveryP99Ms} ms, send to push)`],
    ...Object.entries(report.memory).map(([name, { peak, last }]): [string, string] => [`memory: ${name}`, `peak ${peak} MB, at the end ${last} MB`]),
    ['errors', String(report.errors.length)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`), ...report.errors.map((e) => `  ${e}`)].join('\n');
}
