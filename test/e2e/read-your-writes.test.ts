/**
 * Read your own writes (SPEC §5), with functions caching settings for 60 s as on AWS: a duration a
 * user sets for themselves, or an admin sets for them, applies at once to what they are delivered;
 * and a system message's clientMsgId reused for another message is 409 CONFLICT.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;
const day = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 60 });
  expect((await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: true })).status).toBe(200);
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const connect = async (userId: string) => TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
/** In whole seconds: expiries are rounded up to the second, as DynamoDB TTL counts. */
const lifetime = (message: { sentAt: string; expiresAt: string }) => Math.floor((Date.parse(message.expiresAt) - Date.parse(message.sentAt)) / 1000) * 1000;

it('applies a duration the user has just set to the next message they get, though settings are cached', async () => {
  const [readerId, senderId] = [id('rita'), id('sam')];
  const [reader, sender] = await Promise.all([connect(readerId), connect(senderId)]);
  // Warm every cache with the app's 7 days first.
  await sender.request({ action: 'send', type: 'private', target: readerId, clientMsgId: randomUUID(), body: 'before' });
  expect(lifetime((await reader.messages(1))[0] as never)).toBe(7 * day);

  expect(await reader.request({ action: 'setOfflineMessageDuration', days: 1 })).toMatchObject({ days: 1, source: 'user' });
  expect(await reader.request({ action: 'getOfflineMessageDuration' })).toMatchObject({ days: 1, source: 'user' });
  await sender.request({ action: 'send', type: 'private', target: readerId, clientMsgId: randomUUID(), body: 'after' });
  expect(lifetime((await reader.messages(1))[0] as never)).toBe(day);
  await Promise.all([reader.close(), sender.close()]);
});

it('applies a duration an admin has just set for a user to the next message that user gets', async () => {
  const [readerId, senderId] = [id('rob'), id('sue')];
  const [reader, sender] = await Promise.all([connect(readerId), connect(senderId)]);
  await sender.request({ action: 'send', type: 'private', target: readerId, clientMsgId: randomUUID(), body: 'before' });
  expect(lifetime((await reader.messages(1))[0] as never)).toBe(7 * day);

  expect((await admin(stack, 'PUT', `/users/${readerId}/config`, { offlineMessageDurationDays: 2 })).status).toBe(200);
  await sender.request({ action: 'send', type: 'private', target: readerId, clientMsgId: randomUUID(), body: 'after' });
  expect(lifetime((await reader.messages(1))[0] as never)).toBe(2 * day);
  await Promise.all([reader.close(), sender.close()]);
});

it('answers 409 CONFLICT, storing nothing, for a system message clientMsgId reused for another body or other recipients', async () => {
  const [ann, ben] = [id('ann'), id('ben')];
  const clientMsgId = randomUUID();
  const first = await admin(stack, 'POST', '/messages/system', { to: [ann], body: 'one', clientMsgId });
  expect(first).toMatchObject({ status: 202, body: { status: 'accepted' } });
  expect(await admin(stack, 'POST', '/messages/system', { to: [ann], body: 'one', clientMsgId })).toMatchObject({
    status: 202,
    body: { status: 'duplicate', id: first.body.id },
  });
  for (const reused of [{ to: [ann], body: 'two' }, { to: [ann, ben], body: 'one' }]) {
    const answer = await admin(stack, 'POST', '/messages/system', { ...reused, clientMsgId });
    expect(answer).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
  }
  expect((await admin(stack, 'GET', `/users/${ben}/offline`)).body).toMatchObject({ count: 0 });
});
