/**
 * Roaming history switched off (the app setting `historyEnabled`, SPEC §6): `history` is FORBIDDEN,
 * every message is still stored, delivered and listed in recent conversations, and nothing is written
 * to the History table; switched on again, history is kept and read as before.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { historyTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';
import { snapshot } from '../support/snapshot';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
  expect(await admin(stack, 'PATCH', '/config', { historyEnabled: false })).toMatchObject({ status: 200, body: { historyEnabled: false } });
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

async function send(client: TestClient, type: 'private' | 'group', target: string, body: unknown): Promise<string> {
  const reply = await client.request({ action: 'send', type, target, clientMsgId: randomUUID(), body });
  expect(reply).toMatchObject({ type: 'sent', status: 'accepted' });
  return reply.id as string;
}

/** Every item of the History table, read consistently. */
async function historyItems(): Promise<string[]> {
  return (await snapshot(stack))[historyTable.name] ?? [];
}

describe('without history', () => {
  it('stores and delivers private, group, backend and system messages, lists recent conversations, and writes no history', async () => {
    const [ann, ben] = [id('ann'), id('ben')];
    const groupId = id('g');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [ann, ben] })).status).toBe(200);
    const annClient = await connect(ann);
    const sent = [await send(annClient, 'private', ben, 'private'), await send(annClient, 'group', groupId, 'group')];
    const backend = await admin(stack, 'POST', '/messages', { from: ann, type: 'private', target: ben, body: 'from the backend' });
    expect(backend.status).toBe(201);
    const system = await admin(stack, 'POST', '/messages/system', { to: [ben], body: 'system' });
    expect(system.status).toBe(202);
    await annClient.close();

    const benClient = await connect(ben);
    const delivered = await benClient.messages(4);
    expect(delivered.map((m: Message) => [m.id, m.body])).toEqual([
      [sent[0], 'private'],
      [sent[1], 'group'],
      [backend.body.id, 'from the backend'],
      [system.body.id, 'system'],
    ]);
    // Recent conversations do not need the history: the list is kept as ever.
    await expect
      .poll(async () => ((await benClient.request({ action: 'recent' })).conversations as Array<{ type: string; target: string }>).map((c) => [c.type, c.target]), {
        timeout: 3000,
      })
      .toEqual(expect.arrayContaining([['private', ann], ['group', groupId]]));
    await benClient.close();
    expect(await historyItems()).toEqual([]);
  });

  it('answers every history request FORBIDDEN, saying this deployment keeps none, for a group’s members too', async () => {
    const [cal, dee] = [id('cal'), id('dee')];
    const groupId = id('g');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [cal, dee] })).status).toBe(200);
    const client = await connect(cal);
    await send(client, 'private', dee, 'not kept');
    await send(client, 'group', groupId, 'not kept either');
    for (const frame of [
      { action: 'history', type: 'private', target: dee },
      { action: 'history', type: 'group', target: groupId },
      { action: 'history', type: 'private', target: dee, limit: 10, before: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
    ]) {
      expect(await client.request(frame)).toEqual({
        type: 'error',
        code: 'FORBIDDEN',
        message: 'history is switched off (the app setting historyEnabled)',
        requestId: expect.any(String),
      });
    }
    await client.close();
    expect(await historyItems()).toEqual([]);
  });

  it('deletes a member’s group messages from the queues, with none to take from the history', async () => {
    const [mallory, eve] = [id('mallory'), id('eve')];
    const groupId = id('g');
    expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members: [mallory, eve] })).status).toBe(200);
    const client = await connect(mallory);
    await send(client, 'group', groupId, 'spam');
    await client.close();
    expect(await admin(stack, 'DELETE', `/groups/${groupId}/messages?from=${mallory}`)).toMatchObject({
      status: 200,
      body: { removed: { history: 0, queued: 1 } },
    });
  });

  it('is a setting like the others: a wrong value is refused and changes nothing, and switched on, history is kept again', async () => {
    expect(await admin(stack, 'PATCH', '/config', { historyEnabled: 'no' })).toMatchObject({ status: 400 });
    expect((await admin(stack, 'GET', '/config')).body).toMatchObject({ historyEnabled: false });

    const [fay, gus] = [id('fay'), id('gus')];
    const client = await connect(fay);
    await send(client, 'private', gus, 'not kept');
    try {
      await admin(stack, 'PATCH', '/config', { historyEnabled: true });
      const kept = await send(client, 'private', gus, 'kept');
      const reply = await client.request({ action: 'history', type: 'private', target: gus });
      expect((reply.messages as Message[]).map((m) => [m.id, m.body])).toEqual([[kept, 'kept']]);
    } finally {
      await admin(stack, 'PATCH', '/config', { historyEnabled: false });
    }
    await client.close();
  });
});
