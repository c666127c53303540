/** System messages and server-side deletion end to end (SPEC §7, §8), through the admin API and the CLI. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { historyTable, offlineMessagesTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { runCli } from '../support/cli';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}


const pigeonhole = (args: string[]) => runCli(stack, args);

describe('system messages', () => {
  it('are stored for users who are away and pushed to those online, from "system"', async () => {
    const [away, online] = [id('amy'), id('olly')];
    const onlineClient = await connect(online);
    const answer = await admin(stack, 'POST', '/messages/system', { to: [away, online, away], body: { notice: 'maintenance at 2' } });
    expect(answer).toEqual({ status: 202, body: { id: expect.any(String), status: 'accepted', recipients: 2 } });

    expect(await onlineClient.messages(1)).toEqual([
      expect.objectContaining({ id: answer.body.id, type: 'system', from: 'system', to: online, body: { notice: 'maintenance at 2' } }),
    ]);
    const awayClient = await connect(away);
    expect(await awayClient.messages(1)).toEqual([expect.objectContaining({ id: answer.body.id, type: 'system', from: 'system', to: away })]);
    await Promise.all([onlineClient.close(), awayClient.close()]);
  });

  it('reach every recipient past the first 1,000 through the fan-out queue: one copy each, pushed to those online', { timeout: 120_000 }, async () => {
    const run = id('many');
    // 1,000 stored by the request itself, then two jobs: 1,000 and 1.
    const recipients = Array.from({ length: 2001 }, (_, i) => `${run}-u${String(i).padStart(4, '0')}`);
    const onlineId = recipients[1500] as string;
    const online = await connect(onlineId);
    await stack.lambda.idle(); // its drain done: what reaches it next is the worker's push
    let processed = 0;
    const bothJobs = new Promise<void>((resolve) => {
      const listener = (event: { outcome: string }) => {
        if (event.outcome === 'processed' && ++processed === 2) {
          stack.fanOutJobs.events.off('settled', listener);
          resolve();
        }
      };
      stack.fanOutJobs.events.on('settled', listener);
    });
    const answer = await admin(stack, 'POST', '/messages/system', { to: recipients, body: 'to everyone' });
    expect(answer).toEqual({ status: 202, body: { id: expect.any(String), status: 'accepted', recipients: 2001 } });
    await bothJobs;

    const copies = await Promise.all(recipients.map((recipient) => itemsOf(stack, offlineMessagesTable, recipient)));
    const once = copies.map((items) => items.length === 1 && items[0]?.id === answer.body.id && items[0]?.type === 'system');
    expect(once.filter(Boolean)).toHaveLength(2001);
    expect(await online.messages(1)).toEqual([expect.objectContaining({ id: answer.body.id, type: 'system', from: 'system', to: onlineId })]);
    await online.close();
  });

  it('are stored once for a resend with the same clientMsgId', async () => {
    const user = id('ben');
    const clientMsgId = randomUUID();
    const first = await admin(stack, 'POST', '/messages/system', { to: [user], body: 'once', clientMsgId });
    const again = await admin(stack, 'POST', '/messages/system', { to: [user], body: 'once', clientMsgId });
    expect(again.body).toEqual({ id: first.body.id, status: 'duplicate', recipients: 1 });
    expect(await itemsOf(stack, offlineMessagesTable, user)).toHaveLength(1);
  });

  it.each([
    [{ body: 'x' }, 'to must be an array of user ids', 400],
    [{ to: [], body: 'x' }, 'to must name at least one user', 400],
    [{ to: ['not a user'], body: 'x' }, 'to.0 may only contain', 400],
    [{ to: ['ok'] }, 'body is required', 400],
    [{ to: ['ok'], body: 'x'.repeat(31 * 1024) }, 'body is larger than 30 KB', 413],
  ])('refuses %#, storing nothing', async (request, message, status) => {
    const answer = await admin(stack, 'POST', '/messages/system', request);
    expect(answer.status).toBe(status);
    expect(answer.body.error.message).toContain(message);
    expect(await itemsOf(stack, offlineMessagesTable, 'ok')).toEqual([]);
  });

  it('can be sent from the CLI', async () => {
    const [a, b] = [id('cli-a'), id('cli-b')];
    const run = await pigeonhole(['system', `${a},${b}`, '{"text":"from the cli"}']);
    expect(run.stdout).toMatch(/^Sent \S+ to 2 users\.\n$/);
    expect((await itemsOf(stack, offlineMessagesTable, b))[0]).toMatchObject({ type: 'system', from: 'system', body: '{"text":"from the cli"}' });
    expect((await pigeonhole(['system', a, 'not json'])).code).toBe(2);
  });
});

describe('deleting a member’s messages from a group', () => {
  it('removes them from the history and every undelivered queue, and nothing else', async () => {
    const [mallory, bob, carol] = [id('mallory'), id('bob'), id('carol')];
    const groupId = id('g');
    const otherGroup = id('g2');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [mallory, bob, carol] });
    await admin(stack, 'PUT', `/groups/${otherGroup}`, { members: [mallory, carol] });
    const [malloryClient, bobClient] = await Promise.all([connect(mallory), connect(bob)]);
    const send = (client: TestClient, type: string, target: string, body: string) =>
      client.request({ action: 'send', type, target, clientMsgId: randomUUID(), body });
    await send(malloryClient, 'group', groupId, 'spam 1');
    await send(malloryClient, 'group', groupId, 'spam 2');
    await send(bobClient, 'group', groupId, 'bob is fine');
    await send(malloryClient, 'group', otherGroup, 'elsewhere');
    await send(malloryClient, 'private', carol, 'private to carol');
    // Bob has fetched mallory's messages already: what clients have stays theirs.
    expect((await bobClient.messages(2)).map((m: Message) => m.body)).toEqual(['spam 1', 'spam 2']);

    const run = await pigeonhole(['delete-group-messages', groupId, mallory]);
    expect(run.stdout).toBe(`Removed 2 from ${groupId}'s history and 4 from queues.\n`);

    const history = await bobClient.request({ action: 'history', type: 'group', target: groupId });
    expect((history.messages as Message[]).map((m) => m.body)).toEqual(['bob is fine']);
    const carolQueue = (await itemsOf(stack, offlineMessagesTable, carol)).map((m) => JSON.parse(m.body as string));
    expect(carolQueue.sort()).toEqual(['bob is fine', 'elsewhere', 'private to carol']);
    expect(await itemsOf(stack, historyTable, `g#${otherGroup}`)).toHaveLength(1);
    await Promise.all([malloryClient.close(), bobClient.close()]);
  });

  it('hands a big group to the fan-out worker: the request searches 100 queues, the worker the rest', { timeout: 60_000 }, async () => {
    const mallory = id('mallory');
    const others = Array.from({ length: 249 }, (_, i) => `${mallory}-m${String(i).padStart(3, '0')}`);
    const groupId = id('big');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [mallory, ...others] });
    const malloryClient = await connect(mallory);
    const sent = await malloryClient.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body: 'spam' });
    expect(sent).toMatchObject({ status: 'accepted' });

    const settled = new Promise((resolve) => stack.fanOutJobs.events.once('settled', resolve));
    const answer = await admin(stack, 'DELETE', `/groups/${groupId}/messages?from=${mallory}`);
    // The first 100 members in id order are mallory (who has no copy of her own) and 99 others.
    expect(answer).toMatchObject({ status: 202, body: { removed: { history: 1, queued: 99 }, pendingMembers: 150 } });
    expect(await settled).toMatchObject({ outcome: 'processed' });
    const left = await Promise.all(others.map((member) => itemsOf(stack, offlineMessagesTable, member)));
    expect(left.flat()).toEqual([]);
    await malloryClient.close();
  });

  it('needs from, as a user id', async () => {
    const groupId = id('g');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: ['x'] });
    expect((await admin(stack, 'DELETE', `/groups/${groupId}/messages`)).status).toBe(400);
  });
});

describe('the group commands of the CLI', () => {
  it('puts, reads, changes and deletes a group', async () => {
    const groupId = id('crew');
    expect((await pigeonhole(['group', 'put', groupId, 'ann', 'ben'])).stdout).toMatch(/^members  2: ann, ben$/m);
    expect((await pigeonhole(['group', 'add', groupId, 'cal,dee'])).stdout).toMatch(/^members  4: ann, ben, cal, dee$/m);
    expect((await pigeonhole(['group', 'remove', groupId, 'ann'])).stdout).toMatch(/^members  3: ben, cal, dee$/m);
    expect(JSON.parse((await pigeonhole(['group', 'get', groupId, '--json'])).stdout)).toMatchObject({ memberCount: 3 });
    expect((await pigeonhole(['group', 'delete', groupId])).stdout).toBe(`Deleted group ${groupId}.\n`);
    const gone = await pigeonhole(['group', 'get', groupId]);
    expect(gone).toMatchObject({ code: 1 });
    expect(gone.stderr).toContain('(HTTP 404)');
  });
});
