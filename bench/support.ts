/**
 * What every benchmark shares: starting a metered local stack, clients, statistics, tables, and the
 * result files that `bench/run.ts` turns into the README's Performance section.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OfflineQueue } from '../lib/delivery/offline-queue';
import { messageExpiry } from '../lib/retention/expiry';
import { messageIdFactory } from '../lib/sending/message-ids';
import { RequestMeter } from '../local/request-meter';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local/stack';
import { TestClient } from '../test/support/client';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const resultsDir = join(benchDir, 'results');

export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
  /** When missed: by how much and why, and what design change would meet it. */
  ifMissed?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  tables: Table[];
  targets: Target[];
  notes: string[];
}

/** Benchmarks log only errors: their output is the tables. */
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

/** `history: false`: the app setting `historyEnabled` off from the start, before any function reads it. */
export async function startBenchStack(options: LocalStackOptions & { history?: boolean } = {}): Promise<{ stack: LocalStack; meter: RequestMeter }> {
  const meter = new RequestMeter();
  const { history = true, ...stackOptions } = options;
  const stack = await startLocalStack({ wsPort: 0, adminPort: 0, settingsCacheSeconds: 0, meter, ...stackOptions });
  if (!history) {
    await fetch(`${stack.adminUrl}/config`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ historyEnabled: false }),
    });
  }
  return { stack, meter };
}

/**
 * The local stack in a process of its own, as `npm start` runs it, so that the clients a benchmark
 * drives do not share its event loop; with a fixed token secret and admin key, to sign and call with.
 */
export async function startStackProcess(): Promise<{ wsUrl: string; adminUrl: string; adminKey: string; secret: string; stop(): Promise<void> }> {
  const secret = 'bench-secret-that-is-long-enough-for-hs256';
  const adminKey = 'bench-admin-key';
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: {
      ...process.env,
      PIGEONHOLE_WS_PORT: '0',
      PIGEONHOLE_ADMIN_PORT: '0',
      PIGEONHOLE_TOKEN_SECRET: secret,
      PIGEONHOLE_ADMIN_KEY: adminKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const urls = await new Promise<{ wsUrl: string; adminUrl: string }>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ws = /WebSocket\s+(ws:\/\/\S+)/.exec(output)?.[1];
      const admin = /Admin API\s+(http:\/\/\S+)/.exec(output)?.[1];
      if (ws && admin && output.includes('Press Ctrl-C')) resolve({ wsUrl: ws, adminUrl: admin });
    });
    child.once('exit', (code) => reject(new Error(`the local stack exited with ${code}:\n${output}`)));
  });
  // The stack logs one line per connection; nobody needs them here.
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  return {
    ...urls,
    adminKey,
    secret,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

export async function connect(stack: LocalStack, userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * A running count on stderr for anything that takes more than a few seconds: redrawn in place on a
 * terminal, a line every five seconds in a log.
 */
export function progress(label: string, total: number): { tick(by?: number): void; done(): void } {
  const terminal = process.stderr.isTTY;
  let count = 0;
  let last = 0;
  const draw = () => process.stderr.write(terminal ? `\r  ${label}: ${count}/${total}` : `  ${label}: ${count}/${total}\n`);
  return {
    tick(by = 1) {
      count += by;
      if (Date.now() - last > (terminal ? 200 : 5000)) {
        last = Date.now();
        draw();
      }
    },
    done() {
      draw();
      if (terminal) process.stderr.write('\n');
    },
  };
}

export function markdownTable(table: Table): string {
  const header = `| ${table.columns.join(' | ')} |`;
  const rule = `| ${table.columns.map(() => '---').join(' | ')} |`;
  const rows = table.rows.map((row) => `| ${row.join(' | ')} |`);
  return [header, rule, ...rows].join('\n');
}

/** Prints the result's tables and targets, and writes `bench/results/<name>.json`. */
export function report(result: BenchResult): void {
  console.log(`\n## ${result.title}\n`);
  for (const table of result.tables) console.log(`${table.title}\n\n${markdownTable(table)}\n`);
  if (result.targets.length > 0) {
    console.log(
      markdownTable({
        title: 'Targets',
        columns: ['target', 'wanted', 'measured', 'met'],
        rows: result.targets.map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : '**no**']),
      }),
    );
  }
  for (const target of result.targets) if (!target.met && target.ifMissed) console.log(`\nMissed: ${target.what}. ${target.ifMissed}`);
  for (const note of result.notes) console.log(`\n${note}`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${result.name}.json`), `${JSON.stringify({ ...result, measuredAt: new Date().toISOString() }, null, 2)}\n`);
}

/** A body whose JSON is exactly `bytes` long. */
export function bodyOfBytes(bytes: number): string {
  return 'x'.repeat(bytes - 2);
}

/**
 * Queues `count` private messages of `bodyBytes` for one user straight into the table, as a backlog
 * to drain: from ten senders, each within maxOfflineMessagesPerSender, so that every one is delivered.
 */
export async function seedQueue(queue: OfflineQueue, userId: string, count: number, bodyBytes: number): Promise<void> {
  const newId = messageIdFactory();
  const now = new Date();
  const bodyJson = JSON.stringify(bodyOfBytes(bodyBytes));
  await queue.putMany(
    Array.from({ length: count }, (_, i) => ({
      recipientId: userId,
      message: {
        id: newId(now),
        type: 'private' as const,
        from: `bench-${i % 10}`,
        to: userId,
        bodyJson,
        sentAt: now,
        expiresAt: messageExpiry(now, undefined, 7),
        qos: 1 as const,
      },
    })),
  );
}
