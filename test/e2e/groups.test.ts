/** Groups end to end (SPEC §2, §4, §7): the admin API, members-only sends, fan-out, caps. */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { historyTable, offlineMessagesTable } from '../../lib/tables';
import { FaultInjector } from '../../local/faults';
import { RequestMeter } from '../../local/request-meter';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { startTestStack, untilSettled } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;
const meter = new RequestMeter();
const faults = new FaultInjector();

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0, meter, faults });
});
afterAll(() => stack?.stop());
afterEach(() => faults.clear());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

function sendToGroup(client: TestClient, groupId: string, body: unknown, extra: Record<string, unknown> = {}) {
  return client.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body, ...extra });
}

const queued = (userId: string) => itemsOf(stack, offlineMessagesTable, userId);

async function makeGroup(members: string[]): Promise<string> {
  const groupId = id('g');
  const answer = await admin(stack, 'PUT', `/groups/${groupId}`, { members });
  expect(answer.status).toBe(200);
  return groupId;
}

describe('managing groups', () => {
  it('creates, reads, changes and deletes a group', async () => {
    const groupId = id('team');
    const created = await admin(stack, 'PUT', `/groups/${groupId}`, { members: ['cat', 'ann', 'ben', 'ann'] });
    expect(created).toEqual({
      status: 200,
      body: { groupId, members: ['ann', 'ben', 'cat'], memberCount: 3, createdAt: expect.any(String), updatedAt: expect.any(String) },
    });
    expect((await admin(stack, 'GET', `/groups/${groupId}`)).body.members).toEqual(['ann', 'ben', 'cat']);

    const changed = await admin(stack, 'POST', `/groups/${groupId}/members`, { add: ['dan'], remove: ['ann'] });
    expect(changed.body).toMatchObject({ members: ['ben', 'cat', 'dan'], memberCount: 3, createdAt: created.body.createdAt });

    const replaced = await admin(stack, 'PUT', `/groups/${groupId}`, { members: ['eve'] });
    expect(replaced.body.members).toEqual(['eve']);

    expect(await admin(stack, 'DELETE', `/groups/${groupId}`)).toEqual({ status: 200, body: { groupId, deleted: true } });
    expect((await admin(stack, 'GET', `/groups/${groupId}`)).status).toBe(404);
  });

  it.each([
    ['GET', '/groups/no-such-group', undefined],
    ['DELETE', '/groups/no-such-group', undefined],
    ['POST', '/groups/no-such-group/members', { add: ['x'] }],
    ['DELETE', '/groups/no-such-group/messages?from=x', undefined],
  ] as const)('answers 404 for %s %s of a group that does not exist', async (method, path, body) => {
    expect(await admin(stack, method, path, body)).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it.each([
    [{}, 'members must be an array of user ids'],
    [{ members: 'ann' }, 'members must be an array of user ids'],
    [{ members: ['ok', 'not ok'] }, 'members.1 may only contain'],
    [{ members: Array.from({ length: 10_001 }, (_, i) => `u${i}`) }, 'at most 10000 members'],
  ])('refuses the body %#, creating nothing', async (body, message) => {
    const groupId = id('bad');
    const answer = await admin(stack, 'PUT', `/groups/${groupId}`, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain(message);
    expect((await admin(stack, 'GET', `/groups/${groupId}`)).status).toBe(404);
  });

  it('takes a change that names a member more than once, as once', async () => {
    const [a, b, c] = [id('dup-a'), id('dup-b'), id('dup-c')];
    const groupId = await makeGroup([a]);
    const answer = await admin(stack, 'POST', `/groups/${groupId}/members`, { add: [b, b, c, b], remove: [a, a, c] });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ memberCount: 2 });
    expect([...(answer.body.members as string[])].sort()).toEqual([b, c].sort());
  });

  it('refuses a change that names no one, and a group id that is not an id', async () => {
    const groupId = await makeGroup(['a']);
    expect((await admin(stack, 'POST', `/groups/${groupId}/members`, {})).body.error.message).toBe('name members to add or remove');
    expect((await admin(stack, 'PUT', `/groups/${encodeURIComponent('no good')}`, { members: [] })).status).toBe(400);
  });
});

describe('sending to a group', () => {
  it('lets members only send: a non-member gets FORBIDDEN and nothing is stored', async () => {
    const [member, outsider] = [id('mel'), id('otto')];
    const groupId = await makeGroup([member]);
    const client = await connect(outsider);
    expect(await sendToGroup(client, groupId, 'let me in')).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect(await queued(member)).toEqual([]);
    await client.close();
  });

  it('pushes to members online, stores for members away, shows the sender’s other device, and keeps no copy for the sender', async () => {
    const [sender, online, away] = [id('sue'), id('ola'), id('abe')];
    const groupId = await makeGroup([sender, online, away]);
    const [phone, laptop, onlineClient] = await Promise.all([connect(sender), connect(sender), connect(online)]);
    await untilSettled(stack);

    const sent = await sendToGroup(phone, groupId, { text: 'hello team' });
    expect(sent).toMatchObject({ type: 'sent', status: 'accepted' });
    const [pushed] = await onlineClient.messages(1);
    expect(pushed).toMatchObject({ id: sent.id, type: 'group', from: sender, to: groupId, body: { text: 'hello team' }, qos: 1 });
    expect((await laptop.messages(1)).map((m) => m.id)).toEqual([sent.id]);
    expect(phone.messageFrames).toEqual([]);
    expect(await queued(sender)).toEqual([]);

    const awayClient = await connect(away);
    expect((await awayClient.messages(1)).map((m) => [m.id, m.to])).toEqual([[sent.id, groupId]]);
    await Promise.all([phone.close(), laptop.close(), onlineClient.close(), awayClient.close()]);
  });

  it('stores a resend with the same clientMsgId once per member', async () => {
    const [sender, reader] = [id('sam'), id('rae')];
    const groupId = await makeGroup([sender, reader]);
    const client = await connect(sender);
    const clientMsgId = randomUUID();
    const first = await sendToGroup(client, groupId, 'once', { clientMsgId });
    expect(await sendToGroup(client, groupId, 'once', { clientMsgId })).toMatchObject({ id: first.id, status: 'duplicate' });
    expect(await queued(reader)).toHaveLength(1);
    await client.close();
  });

  it('keeps group messages for the group duration, and only the newest groupOfflineMaxMessages per member', async () => {
    await admin(stack, 'PATCH', '/config', { groupOfflineMessageDurationDays: 2, groupOfflineMaxMessages: 3 });
    try {
      const [sender, reader] = [id('gil'), id('hal')];
      const groupId = await makeGroup([sender, reader]);
      const otherGroup = await makeGroup([sender, reader]);
      const client = await connect(sender);
      for (const n of [1, 2, 3, 4, 5]) await sendToGroup(client, groupId, n);
      await sendToGroup(client, otherGroup, 'other group');
      await client.close();

      const readerClient = await connect(reader);
      expect(await readerClient.next()).toEqual({ type: 'dropped', count: 2, reason: 'overflow' });
      const messages = await readerClient.messages(4);
      expect(messages.map((m) => m.body)).toEqual([3, 4, 5, 'other group']);
      const lifetime = Date.parse(messages[0]?.expiresAt ?? '') - Date.parse(messages[0]?.sentAt ?? '');
      expect(Math.abs(lifetime - 2 * 24 * 3_600_000)).toBeLessThan(1000);
      await readerClient.close();
    } finally {
      await admin(stack, 'PATCH', '/config', { groupOfflineMessageDurationDays: null, groupOfflineMaxMessages: null });
    }
  });

  it('pushes a qos-0 group message to members online, and stores nothing', async () => {
    const [sender, online, away] = [id('quin'), id('ria'), id('ted')];
    const groupId = await makeGroup([sender, online, away]);
    const [client, onlineClient] = await Promise.all([connect(sender), connect(online)]);
    await untilSettled(stack);
    const sent = await sendToGroup(client, groupId, 'fleeting', { qos: 0 });
    expect((await onlineClient.messages(1)).map((m: Message) => [m.id, m.qos])).toEqual([[sent.id, 0]]);
    expect(await queued(away)).toEqual([]);
    await Promise.all([client.close(), onlineClient.close()]);
  });
});

describe('a group send cut short', () => {
  it('is finished by the resend: every member gets one copy under the one id, and the sender hears duplicate', async () => {
    const sender = id('ivy');
    // 60 others: three writes of copies (25, 25, 10); two of them are online.
    const members = Array.from({ length: 60 }, (_, i) => `${sender}-m${String(i).padStart(2, '0')}`);
    const groupId = await makeGroup([sender, ...members]);
    const [client, firstOnline, lastOnline] = await Promise.all([connect(sender), connect(members[0] as string), connect(members[59] as string)]);
    await stack.lambda.idle(); // their drains done: what reaches them next is the send's push

    // The write of copies that holds the first member's goes through; the others fail, the SDK's retries too.
    const stopFault = faults.inject({
      client: 'DynamoDBClient',
      command: 'BatchWriteItemCommand',
      table: stack.tableName(offlineMessagesTable),
      function: 'send',
      fault: 'server-error',
      where: (input) => !JSON.stringify(input).includes(`"${members[0]}"`),
    });
    const clientMsgId = randomUUID();
    const failed = await sendToGroup(client, groupId, 'all of you', { clientMsgId });
    stopFault();
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL' });
    const partial = (await Promise.all(members.map((member) => queued(member)))).filter((items) => items.length > 0);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(60);
    const claimed = (await queued(members[0] as string))[0]?.id;
    expect(partial.every((items) => items.length === 1 && items[0]?.id === claimed)).toBe(true);
    expect(firstOnline.messageFrames).toEqual([]);

    const resent = await sendToGroup(client, groupId, 'all of you', { clientMsgId });
    expect(resent).toMatchObject({ type: 'sent', clientMsgId, status: 'duplicate', id: claimed });
    const copies = await Promise.all(members.map((member) => queued(member)));
    expect(copies.filter((items) => items.length === 1 && items[0]?.id === claimed)).toHaveLength(60);
    for (const online of [firstOnline, lastOnline]) expect((await online.messages(1)).map((m) => [m.id, m.body])).toEqual([[claimed, 'all of you']]);
    expect((await itemsOf(stack, historyTable, `g#${groupId}`)).map((item) => item.id)).toEqual([claimed]);
    await Promise.all([client.close(), firstOnline.close(), lastOnline.close()]);
  }, 60_000);
});

describe('fan-out', () => {
  it('stores exactly one copy for each of 1,000 offline members, in a bounded number of requests', async () => {
    const sender = id('boss');
    const members = Array.from({ length: 1000 }, (_, i) => `${sender}-m${String(i).padStart(4, '0')}`);
    const groupId = await makeGroup([sender, ...members]);
    const client = await connect(sender);
    meter.take();
    const sent = await sendToGroup(client, groupId, { text: 'all hands' });
    const metered = meter.take();
    expect(sent).toMatchObject({ status: 'accepted' });

    const copies = await Promise.all(members.map((member) => queued(member)));
    expect(copies.every((items) => items.length === 1 && items[0]?.id === sent.id)).toBe(true);
    console.log(
      `1,000-member group, all offline: ${metered.requests} DynamoDB requests ` +
        `(${JSON.stringify(metered.byCommand)}), ${metered.writeUnits} write units, ${metered.readUnits} read units`,
    );
    expect(metered.requests).toBeLessThanOrEqual(100);
    await client.close();
  }, 60_000);

  it('hands members past 1,000 to the fan-out queue, and every member still gets exactly one copy', async () => {
    const sender = id('chief');
    const members = Array.from({ length: 1500 }, (_, i) => `${sender}-m${String(i).padStart(4, '0')}`);
    const groupId = await makeGroup([sender, ...members]);
    const client = await connect(sender);
    const settled = new Promise((resolve) => stack.fanOutJobs.events.once('settled', resolve));
    const sent = await sendToGroup(client, groupId, 'to the many');
    expect(await settled).toMatchObject({ outcome: 'processed' });
    const copies = await Promise.all(members.map((member) => queued(member)));
    expect(copies.filter((items) => items.length === 1 && items[0]?.id === sent.id)).toHaveLength(1500);
    await client.close();
  }, 90_000);
});
