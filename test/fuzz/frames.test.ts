/**
 * Property-based fuzzing of the WebSocket API (SPEC §9): 10,000 generated frames a run, over real
 * connections on the local stack, eight at a time. Every frame gets exactly one reply, a well-formed
 * server frame (an `error` for an invalid one, never `INTERNAL`), unless it is over API Gateway's
 * 32 KB frame, which closes the connection with 1009, or binary, which closes it with 1003; nothing
 * is stored; the process stays up and no prototype is polluted.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ackFrameSchema,
  getOfflineMessageDurationFrameSchema,
  historyFrameSchema,
  joinRoomFrameSchema,
  leaveRoomFrameSchema,
  limits,
  pingFrameSchema,
  recentFrameSchema,
  sendFrameSchema,
  serverFrameSchema,
  setOfflineMessageDurationFrameSchema,
  syncFrameSchema,
  type Schema,
} from '../../lib/protocol';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';
import { snapshot } from '../support/snapshot';
import { anyValue, edgeStrings, nested, pollution, ulid } from './arbitraries';

const connections = 8;
const framesPerRun = 10_000;

/** Each action's schema: a frame it accepts is a valid request, not bad input. */
const actions: Record<string, Schema> = {
  send: sendFrameSchema,
  ack: ackFrameSchema,
  sync: syncFrameSchema,
  history: historyFrameSchema,
  recent: recentFrameSchema,
  getOfflineMessageDuration: getOfflineMessageDurationFrameSchema,
  setOfflineMessageDuration: setOfflineMessageDurationFrameSchema,
  joinRoom: joinRoomFrameSchema,
  leaveRoom: leaveRoomFrameSchema,
  ping: pingFrameSchema,
};
/** Valid frames of these actions store something; they are not generated. */
const storingActions = ['send', 'joinRoom', 'setOfflineMessageDuration'];

/** Whether the frame is a valid request of its action (of one of `among`). */
function isValid(frame: Record<string, unknown>, among: readonly string[] = Object.keys(actions)): boolean {
  const action = frame.action;
  return typeof action === 'string' && among.includes(action) && actions[action]?.safeParse(frame).success === true;
}

type Input = { text: string } | { binary: Uint8Array };

const fieldNames = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('type', 'target', 'clientMsgId', 'body', 'qos', 'ttlSeconds', 'ids', 'before', 'limit', 'days', 'room') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'requestId', 'action') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const objectFrames = fc
  .record({
    action: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...Object.keys(actions)) }, { weight: 2, arbitrary: anyValue }),
    requestId: fc.option(fc.oneof(fc.string({ maxLength: limits.requestIdMaxChars + 2 }), anyValue), { nil: undefined, freq: 2 }),
    fields: fc.dictionary(fieldNames, anyValue, { maxKeys: 6 }),
  })
  .map(({ action, requestId, fields }) => ({ ...fields, action, ...(requestId !== undefined && { requestId }) }))
  .filter((frame) => !isValid(frame, storingActions));

/** Valid frames of every action, to be corrupted one field at a time. */
const validFrames = fc.oneof(
  fc.record({
    action: fc.constant('send'),
    type: fc.constantFrom('private', 'group', 'chatroom'),
    // Nobody online: a push would arrive where a reply is awaited.
    target: fc.constantFrom('someone', 'a'.repeat(limits.idMaxChars)),
    clientMsgId: fc.constantFrom('m1', 'a'.repeat(limits.clientMsgIdMaxChars)),
    body: fc.jsonValue({ maxDepth: 2 }),
    qos: fc.constantFrom(0, 1),
  }),
  fc.record({ action: fc.constant('ack'), ids: fc.array(ulid, { minLength: 1, maxLength: limits.ackMaxIds }) }),
  fc.record({ action: fc.constant('history'), type: fc.constantFrom('private', 'group'), target: fc.constantFrom('fuzz-1', 'g1'), limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ action: fc.constant('recent'), limit: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ action: fc.constant('setOfflineMessageDuration'), days: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ action: fc.constantFrom('joinRoom', 'leaveRoom'), room: fc.constantFrom('r1', 'a'.repeat(limits.idMaxChars)) }),
);
const corruptedFrames = fc
  .tuple(validFrames, fieldNames, anyValue)
  .map(([frame, key, value]) => ({ ...frame, [key]: value }) as Record<string, unknown>)
  .filter((frame) => !isValid(frame, storingActions));

const textFrames = fc.oneof(
  { weight: 8, arbitrary: objectFrames.map((frame) => JSON.stringify(frame)) },
  { weight: 8, arbitrary: corruptedFrames.map((frame) => JSON.stringify(frame)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: objectFrames.map((frame) => JSON.stringify(frame).slice(0, -1)) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 100_000 }).map((depth) => `{"action":"send","body":${'['.repeat(depth)}${']'.repeat(depth)}}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"action":"ping","action":"send"}',
      '{"__proto__":{"action":"send"},"action":"ping"}',
      '{"action":"ack","ids":{"__proto__":["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}}',
      '{"action":"constructor"}',
      '{"action":"__proto__"}',
      // Valid only if `__proto__` lent the frame what it lacks.
      '{"action":"send","type":"private","target":"x","clientMsgId":"m","__proto__":{"body":1}}',
      '{"action":"send","type":"private","target":"x","clientMsgId":"m","body":1,"qos":2,"__proto__":{"qos":1}}',
      '',
      ' ',
      'null',
      '[]',
      '"action"',
    ),
  },
);

const inputs: fc.Arbitrary<Input> = fc.oneof(
  { weight: 30, arbitrary: textFrames.map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((binary) => ({ binary })) },
);

let stack: LocalStack;
const clients: TestClient[] = [];
const users = Array.from({ length: connections }, (_, i) => `fuzz-${i}`);

async function connect(i: number): Promise<TestClient> {
  const client = await TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(users[i] as string)}`);
  clients[i] = client;
  return client;
}

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
  for (let i = 0; i < connections; i++) await connect(i);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await stack?.stop();
});

function bytesOf(input: Input): number {
  return 'text' in input ? Buffer.byteLength(input.text) : input.binary.length;
}

/** The frame the text parses to, if it is a JSON object. */
function objectOf(input: Input): Record<string, unknown> | undefined {
  if (!('text' in input)) return undefined;
  try {
    const value: unknown = JSON.parse(input.text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends one input on connection i and checks what comes back. */
async function exchange(i: number, input: Input): Promise<void> {
  // A connection closed by an earlier failing input would fail every later one; shrinking needs each alone.
  const client = clients[i]?.isOpen ? (clients[i] as TestClient) : await connect(i);
  if ('text' in input) client.sendRaw(input.text);
  else client.sendRaw(Buffer.from(input.binary), { binary: true });

  if ('binary' in input || bytesOf(input) > limits.inboundFrameMaxBytes) {
    expect((await client.closed).code).toBe('binary' in input ? 1003 : 1009);
    await connect(i);
    return;
  }
  // Pushes (a chatroom message, once valid frames have joined rooms) are not replies; they are checked too.
  const isPush = (frame: Record<string, unknown>) => frame.type === 'messages' || frame.type === 'dropped';
  const reply = await client.next((frame) => !isPush(frame), 10_000);
  for (const push of client.received.filter(isPush)) expect(serverFrameSchema.safeParse(push).success).toBe(true);
  client.received.length = 0;
  const parsed = serverFrameSchema.safeParse(reply);
  expect(parsed.success, `not a server frame: ${JSON.stringify(reply).slice(0, 300)}`).toBe(true);

  const frame = objectOf(input);
  const valid = frame !== undefined && isValid(frame);
  if (!valid) expect(reply.type).toBe('error');
  if (reply.type === 'error') expect(reply.code, String(reply.message)).not.toBe('INTERNAL');
  const requestId = frame?.requestId;
  if (typeof requestId === 'string' && requestId.length <= limits.requestIdMaxChars) expect(reply.requestId).toBe(requestId);
  expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(limits.replyMaxBytes);
}

it(`answers ${framesPerRun} generated frames with well-formed replies, and stores nothing`, { timeout: 300_000 }, async () => {
  const before = await snapshot(stack);
  await fc.assert(
    fc.asyncProperty(fc.array(inputs, { minLength: connections, maxLength: connections }), async (batch) => {
      await Promise.all(batch.map((input, i) => exchange(i, input)));
    }),
    { numRuns: framesPerRun / connections },
  );

  expect(await snapshot(stack)).toEqual(before);
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  // Still up, and still answering on every connection.
  for (const client of clients) expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
});

it('answers valid frames with odd contents as the protocol says, never with INTERNAL', { timeout: 120_000 }, async () => {
  // Valid frames, storing ones included, whose free-form fields (a body, a clientMsgId) hold the odd values.
  const oddButValid = fc
    .tuple(validFrames, anyValue, fc.string({ unit: 'binary', minLength: 1, maxLength: limits.clientMsgIdMaxChars }))
    .map(([frame, value, clientMsgId]) => (frame.action === 'send' ? { ...frame, body: value, clientMsgId } : frame) as Record<string, unknown>)
    .filter((frame) => isValid(frame) && Buffer.byteLength(JSON.stringify(frame)) <= limits.inboundFrameMaxBytes);
  // Bodies deeper than JSON.stringify can take (it recurses; JSON.parse does not), spliced in as text.
  const deepBodies = fc.integer({ min: 1000, max: 50_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`);
  const frames = fc.oneof(
    { weight: 9, arbitrary: oddButValid.map((frame) => JSON.stringify(frame)) },
    { weight: 1, arbitrary: deepBodies.map((body) => `{"action":"send","type":"private","target":"someone","clientMsgId":"deep","body":${body}}`) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(frames, { minLength: connections, maxLength: connections }), async (batch) => {
      await Promise.all(batch.map((text, i) => exchange(i, { text })));
    }),
    { numRuns: 250 },
  );
});

it('keeps the generators honest: they make the inputs they claim to', () => {
  const sample = fc.sample(inputs, { numRuns: 2000, seed: 1 });
  const texts = sample.flatMap((input) => ('text' in input ? [input.text] : []));
  expect(texts.some((text) => text.includes('"__proto__"'))).toBe(true);
  expect(texts.some((text) => Buffer.byteLength(text) > limits.inboundFrameMaxBytes)).toBe(true);
  expect(texts.some((text) => text.includes('\\ud800'))).toBe(true);
  expect(sample.some((input) => 'binary' in input)).toBe(true);
  expect(fc.sample(edgeStrings, 200).some((s) => s.length === limits.idMaxChars + 1)).toBe(true);
  expect(fc.sample(ulid, 10).every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id))).toBe(true);
  expect(JSON.stringify(nested(3))).toBe('[{"a":["bottom"]}]');
  expect(fc.sample(pollution, 20).some((value) => Object.hasOwn(value as object, '__proto__'))).toBe(true);
  expect(fc.sample(anyValue, 500).some((value) => typeof value === 'number')).toBe(true);
});
