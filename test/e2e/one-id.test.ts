/**
 * One id per message (SPEC §5): three devices of one sender send the same clientMsgId at the same
 * moment, 150 times, while 10 % of DynamoDB requests fail and the recipient reconnects at random. Each
 * message reaches the recipient under exactly one id, the one every device was told.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { FaultInjector, faultRules } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;
const faults = new FaultInjector();

beforeAll(async () => {
  // Injected faults are logged by the handlers; the assertions say what happened.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  stack = await startTestStack({ faults });
});
afterAll(() => stack?.stop());

const run = `race${Date.now().toString(36)}`;
const [senderId, readerId] = [`${run}-sender`, `${run}-reader`];
const messages = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A device that keeps one connection, opening another when it is lost. */
class Device {
  private client: Promise<TestClient> | undefined;
  constructor(
    private readonly userId: string,
    private readonly deviceId: string,
    private readonly onMessages: (messages: Message[], client: TestClient) => void = () => undefined,
  ) {}

  connection(): Promise<TestClient> {
    this.client ??= (async () => {
      for (;;) {
        try {
          const query = new URLSearchParams({ token: await stack.issueToken(this.userId), deviceId: this.deviceId });
          const client = await TestClient.connect(`${stack.wsUrl}/?${query}`, {
            onFrame: (frame, from) => {
              if (frame.type !== 'messages') return undefined;
              this.onMessages(frame.messages as Message[], from);
              return 'handled';
            },
          });
          void client.closed.then(() => (this.client = undefined));
          return client;
        } catch {
          await sleep(20); // refused: the drain could not be started under the faults
        }
      }
    })();
    return this.client;
  }

  /** Sends until a `sent` reply comes: after INTERNAL, a lost socket or no answer, the same frame again. */
  async sendUntilAnswered(frame: Record<string, unknown>): Promise<string> {
    for (;;) {
      const reply = await (await this.connection()).request(frame, 10_000).catch(() => undefined); // the socket went: again
      if (reply?.type === 'sent') return reply.id as string;
      if (reply) expect(reply).toMatchObject({ type: 'error', code: 'INTERNAL' });
      await sleep(10);
    }
  }

  async drop(): Promise<void> {
    (await this.client)?.terminate();
    this.client = undefined;
  }
}

it('gives each message one id, whichever of three racing devices stores it, under 10 % DynamoDB faults', { timeout: 360_000 }, async () => {
  const received = new Map<number, Set<string>>();
  const reader = new Device(readerId, 'phone', (messages, client) => {
    for (const message of messages) {
      const n = (message.body as { n: number }).n;
      received.set(n, (received.get(n) ?? new Set()).add(message.id));
    }
    client.send({ action: 'ack', ids: messages.map((message) => message.id) });
  });
  await reader.connection();
  const devices = ['a', 'b', 'c'].map((deviceId) => new Device(senderId, deviceId));
  await Promise.all(devices.map((device) => device.connection()));

  let racing = true;
  const churn = (async () => {
    while (racing) {
      await sleep(100 + Math.random() * 400);
      await reader.drop();
      await reader.connection();
    }
  })();
  const stops = faultRules({ dynamodb: 0.1 }).map((rule) => faults.inject(rule));
  const told = new Map<number, Set<string>>();
  try {
    for (let n = 1; n <= messages; n += 1) {
      if (n % 25 === 0) console.log(`sent ${n}`);
      const frame = { action: 'send', type: 'private', target: readerId, clientMsgId: `m${n}`, body: { n } };
      told.set(n, new Set(await Promise.all(devices.map((device) => device.sendUntilAnswered(frame)))));
    }
  } finally {
    racing = false;
    for (const stop of stops) stop();
  }
  await churn;

  // Everything still queued comes with a sync; the acks of what came land meanwhile.
  for (;;) {
    const reply = await (await reader.connection()).request({ action: 'sync' }, 10_000);
    if (reply.type === 'synced' && reply.count === 0) break;
    await sleep(100);
  }
  const problems: string[] = [];
  for (let n = 1; n <= messages; n += 1) {
    const ids = [...(told.get(n) ?? [])];
    if (ids.length !== 1) problems.push(`message ${n}: the devices were told ${ids.length} ids: ${ids.join(', ')}`);
    const got = [...(received.get(n) ?? [])];
    if (got.length !== 1 || got[0] !== ids[0]) problems.push(`message ${n}: told ${ids.join(', ')}, received under ${got.join(', ') || 'no id'}`);
  }
  expect(problems).toEqual([]);
  expect([...faults.injected.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(50);
  await Promise.all([...devices, reader].map((device) => device.drop()));
});
