/**
 * End to end on the local stack: 100 connected clients exchange 10,000 qos-1 messages (each sends
 * 100 to others picked at random, waiting for each `sent` as a chat client does, and acks what it
 * receives). Measures
 * throughput and the time from send to receipt. The stack runs in its own process, as `npm start`
 * runs it, so that the clients do not share its event loop.
 */
import { randomUUID } from 'node:crypto';
import { issueToken } from '../lib/connecting/tokens';
import { TestClient } from '../test/support/client';
import { median, percentile, progress, report, round, startStackProcess } from './support';

const clients = 100;
const messagesEach = 100;
/** Each client waits for `sent` before its next message, as the ordering rule of SPEC §5 assumes. */
const inFlight = 1;

async function main(): Promise<void> {
  const { wsUrl, secret, stop } = await startStackProcess();
  try {
    const users = Array.from({ length: clients }, (_, i) => `e2e-${String(i).padStart(3, '0')}`);
    const connected = await Promise.all(
      users.map(async (userId) => {
        const { token } = await issueToken(secret, { userId, ttlSeconds: 3600, now: new Date() });
        return TestClient.connect(`${wsUrl}/?token=${token}`);
      }),
    );

    const total = clients * messagesEach;
    const latencies: number[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    const bar = progress('messages received', total);
    let resolveAll: () => void = () => undefined;
    const allReceived = new Promise<void>((resolve) => (resolveAll = resolve));
    for (const client of connected) {
      void (async () => {
        for (;;) {
          const frame = await client.next((f) => f.type === 'messages', 600_000).catch(() => undefined);
          if (!frame) return;
          const now = Date.now();
          const messages = frame.messages as Array<{ id: string; body: { t: number } }>;
          for (const message of messages) {
            if (seen.has(message.id)) {
              duplicates += 1;
              continue;
            }
            seen.add(message.id);
            latencies.push(now - message.body.t);
            bar.tick();
          }
          client.send({ action: 'ack', ids: messages.map((m) => m.id) });
          if (seen.size === total) resolveAll();
        }
      })();
    }

    const started = Date.now();
    let errors = 0;
    await Promise.all(
      connected.map(async (client, index) => {
        let next = 0;
        const lane = async () => {
          while (next < messagesEach) {
            next += 1;
            let target = index;
            while (target === index) target = Math.floor(Math.random() * clients);
            const reply = await client.request(
              { action: 'send', type: 'private', target: users[target], clientMsgId: randomUUID(), body: { t: Date.now() } },
              60_000,
            );
            if (reply.type !== 'sent') errors += 1;
          }
        };
        await Promise.all(Array.from({ length: inFlight }, lane));
      }),
    );
    // Whatever has not arrived two minutes after the last send is lost, and reported so.
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([allReceived, new Promise((resolve) => (giveUp = setTimeout(resolve, 120_000)))]);
    clearTimeout(giveUp);
    const elapsed = (Date.now() - started) / 1000;
    bar.done();
    await Promise.all(connected.map((client) => client.close()));

    report({
      name: 'end-to-end',
      title: 'End to end: 100 clients, 10,000 messages',
      tables: [
        {
          title: `${clients} connected clients, ${messagesEach} qos-1 messages each to others at random (each waits for \`sent\` before the next), every message acked`,
          columns: ['delivered', 'lost', 'duplicates', 'errors', 'seconds', 'messages / s', 'p50 ms', 'p99 ms', 'max ms'],
          rows: [
            [
              seen.size,
              total - seen.size,
              duplicates,
              errors,
              round(elapsed, 1),
              Math.round(seen.size / elapsed),
              round(median(latencies), 1),
              round(percentile(latencies, 99), 1),
              round(Math.max(...latencies), 1),
            ],
          ],
        },
      ],
      targets: [],
      notes: [
        'Everything runs on this one machine: DynamoDB Local (Java), the local stack (one Node process running every handler) and the 100 clients. Latency is from `send` to receipt at the other client, including the write to DynamoDB Local before `accepted`.',
      ],
    });
    if (seen.size !== total) process.exitCode = 1;
  } finally {
    await stop();
  }
}

await main();
