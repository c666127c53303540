/**
 * One client flooding, everyone else's sends meanwhile (issue 13): twenty users send to each other at
 * a chat's pace, waiting for each `sent`, while mallory sends 5,000 messages at a time from one
 * connection as fast as it will take them, again and again. Their send-to-`sent` latency is measured
 * in alternating windows without and with the flood, so that a machine whose load drifts (other work
 * beside the benchmark) weighs on both alike.
 *
 * The stack runs in its own process, as `npm start` runs it, and mallory in another, so that neither
 * the flood's frames nor its replies share the measuring clients' event loop.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { issueToken } from '../lib/connecting/tokens';
import { TestClient } from '../test/support/client';
import { median, percentile, report, round, startStackProcess } from './support';

const users = 20;
/** Each user's pace: a send every 200 ms (5 a second, a quarter of the default rate), one at a time. */
const paceMs = 200;
const windowMs = Number(process.env.FLOOD_WINDOW_MS ?? 10_000);
const windowsEach = 3;
const floodBatch = 5000;

interface FloodCount {
  sent: number;
  accepted: number;
  rateLimited: number;
  other: number;
}

/**
 * The flooder's process: sends `floodBatch` frames at once, waits for every reply, and again, until told
 * to stop (stdin closes). On plain `ws`, its frames written beforehand and its replies counted without
 * parsing them: the flooder's own CPU is the attacker's on AWS, and here it should take as little of
 * the shared machine as it can.
 */
async function flooder(wsUrl: string, token: string, target: string): Promise<void> {
  const count: FloodCount = { sent: 0, accepted: 0, rateLimited: 0, other: 0 };
  const socket = new WebSocket(`${wsUrl}/?token=${token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let pending = 0;
  let release: () => void = () => undefined;
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.includes('"type":"sent"')) count.accepted += 1;
    else if (text.includes('"RATE_LIMITED"')) count.rateLimited += 1;
    else if (text.includes('"type":"error"')) count.other += 1;
    else return;
    pending -= 1;
    if (pending === 0) release();
  });
  let stopping = false;
  process.stdin.on('end', () => (stopping = true));
  process.stdin.resume();
  process.stdout.write('ready\n');
  for (let batch = 0; !stopping; batch += 1) {
    const prefix = `${randomUUID()}-`;
    const frames = Array.from(
      { length: floodBatch },
      (_, i) => `{"action":"send","type":"private","target":"${target}","clientMsgId":"${prefix}${i}","body":{"junk":${i}}}`,
    );
    const done = new Promise<void>((resolve) => (release = resolve));
    pending = floodBatch;
    for (const frame of frames) socket.send(frame);
    count.sent += floodBatch;
    await done;
  }
  socket.close();
  process.stdout.write(`${JSON.stringify(count)}\n`);
}

function startFlooder(wsUrl: string, token: string, target: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--flooder', wsUrl, token, target], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<void>((resolve) => {
    const check = () => (output.includes('ready\n') ? resolve() : setTimeout(check, 20));
    check();
  });
  return {
    ready,
    async stop(): Promise<FloodCount> {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
      return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as FloodCount;
    },
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const { wsUrl, adminUrl, adminKey, secret, stop } = await startStackProcess();
  try {
    const token = async (userId: string) => (await issueToken(secret, { userId, ttlSeconds: 3600, now: new Date() })).token;
    const ids = Array.from({ length: users }, (_, i) => `chat-${String(i).padStart(2, '0')}`);
    const clients = await Promise.all(ids.map(async (userId) => TestClient.connect(`${wsUrl}/?token=${await token(userId)}`, { onFrame: (f) => (f.type === 'messages' ? 'handled' : undefined) })));
    const victim = 'dave';

    const latencies = { quiet: [] as number[], flood: [] as number[] };
    const errors = { quiet: 0, flood: 0 };
    /** Every user sends at its pace for one window; resolves with the latencies. */
    const window = async (kind: 'quiet' | 'flood') => {
      const until = Date.now() + windowMs;
      await Promise.all(
        clients.map(async (client, index) => {
          while (Date.now() < until) {
            const started = performance.now();
            const reply = await client.request(
              { action: 'send', type: 'private', target: ids[(index + 1) % users], clientMsgId: randomUUID(), body: { text: 'hi' } },
              60_000,
            );
            const took = performance.now() - started;
            if (reply.type === 'sent') latencies[kind].push(took);
            else errors[kind] += 1;
            await new Promise((resolve) => setTimeout(resolve, Math.max(0, paceMs - took)));
          }
        }),
      );
    };

    // Warm every handler first.
    await window('quiet');
    latencies.quiet.length = 0;
    const floods: FloodCount[] = [];
    for (let round_ = 0; round_ < windowsEach; round_ += 1) {
      process.stderr.write(`  window ${round_ + 1} of ${windowsEach}: quiet, then flooded\n`);
      await window('quiet');
      const mallory = startFlooder(wsUrl, await token('mallory'), victim);
      await mallory.ready;
      await window('flood');
      floods.push(await mallory.stop());
    }
    await Promise.all(clients.map((client) => client.close()));
    const queued = (await (
      await fetch(`${adminUrl}/users/${victim}/offline`, { headers: { authorization: `Bearer ${adminKey}` } })
    ).json()) as { count: number; pendingDrops: { overflow: number } };

    const total = floods.reduce((sum, f) => ({ sent: sum.sent + f.sent, accepted: sum.accepted + f.accepted, rateLimited: sum.rateLimited + f.rateLimited, other: sum.other + f.other }));
    const p99 = { quiet: percentile(latencies.quiet, 99), flood: percentile(latencies.flood, 99) };
    const ratio = p99.flood / p99.quiet;
    const row = (kind: 'quiet' | 'flood', label: string) => [
      label,
      latencies[kind].length,
      errors[kind],
      round(median(latencies[kind]), 1),
      round(p99[kind], 1),
      round(Math.max(...latencies[kind]), 1),
    ];
    report({
      name: 'flood',
      title: 'One client flooding, everyone else meanwhile',
      tables: [
        {
          title: `${users} users each sending every ${paceMs} ms (waiting for \`sent\`), send to \`sent\` in ms, in ${windowsEach} windows of ${windowMs / 1000} s each without and with the flood`,
          columns: ['while', 'sends', 'errors', 'p50 ms', 'p99 ms', 'max ms'],
          rows: [row('quiet', 'nobody floods'), row('flood', `mallory floods (${floodBatch} at a time, one connection)`), ['p99 with the flood / without', '', '', '', `${round(ratio, 2)} ×`, '']],
        },
        {
          title: 'What the flood got',
          columns: ['frames sent', 'accepted', 'RATE_LIMITED', 'other errors', 'stored for its target', 'of which the sender cap drops'],
          rows: [[total.sent, total.accepted, total.rateLimited, total.other, queued.count + queued.pendingDrops.overflow, queued.pendingDrops.overflow]],
        },
      ],
      targets: [
        {
          what: 'another user’s send p99 during a 5,000-message flood, against without',
          target: '≤ 2 ×',
          measured: `${round(ratio, 2)} ×`,
          met: ratio <= 2,
          ifMissed:
            'The stack, DynamoDB Local and the clients share two cores here, so every refused frame of the flood takes CPU from the others’ sends; ' +
            'on AWS each invocation has a container of its own, and what the flood shares is the send route’s throttle (see Abuse limits).',
        },
      ],
      notes: [
        `The machine’s load average was ${round(loadBefore, 1)} before the run and ${round(loadavg()[0] ?? 0, 1)} after it (other work shares it), which is why the times are long and why the windows alternate.`,
        'Every frame of the flood reaches the send handler, which refuses it from the container’s memory once the burst is spent (no DynamoDB request): what it costs the others is the CPU of parsing, refusing and answering it, on a machine of two cores.',
      ],
    });
  } finally {
    await stop();
  }
}

if (process.argv[2] === '--flooder') {
  const [wsUrl, token, target] = process.argv.slice(3) as [string, string, string];
  await flooder(wsUrl, token, target);
} else {
  await main();
}
