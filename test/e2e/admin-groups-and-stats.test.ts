/** `GET /v1/groups` (paged) and `GET /v1/stats` (SPEC §7) on the local stack, and their CLI commands. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StatsResponse } from '../../lib/admin/admin-api';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { runCli } from '../support/cli';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string, query = ''): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}${query}`);
}

const pigeonhole = (args: string[]) => runCli(stack, args);

async function stats(): Promise<StatsResponse> {
  const answer = await admin(stack, 'GET', '/stats');
  expect(answer.status).toBe(200);
  return answer.body as StatsResponse;
}

describe('GET /v1/groups', () => {
  it('lists every group with its member count, page by page, by an opaque cursor', async () => {
    const made = new Map<string, number>();
    for (let i = 0; i < 5; i += 1) {
      const groupId = id(`team${i}`);
      const members = Array.from({ length: i }, (_, n) => `m${n}`);
      expect((await admin(stack, 'PUT', `/groups/${groupId}`, { members })).status).toBe(200);
      made.set(groupId, i);
    }
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await admin(stack, 'GET', `/groups?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(answer.status).toBe(200);
      expect(answer.body.groups.length).toBeLessThanOrEqual(2);
      for (const group of answer.body.groups) {
        expect(seen.has(group.groupId)).toBe(false);
        seen.set(group.groupId, group.memberCount);
      }
      cursor = answer.body.next;
      if (cursor !== undefined) expect(cursor).not.toContain('team');
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBeGreaterThanOrEqual(3);
    for (const [groupId, count] of made) expect(seen.get(groupId)).toBe(count);

    const firstPage = await admin(stack, 'GET', '/groups');
    expect(firstPage.body.groups.length).toBeGreaterThanOrEqual(5);
  });

  it('refuses a cursor it did not give, and a page size out of range, changing nothing', async () => {
    for (const query of ['cursor=not-a-cursor', `cursor=${Buffer.from('{"after":"../x y"}').toString('base64url')}`, 'limit=0', 'limit=101', 'limit=x']) {
      const answer = await admin(stack, 'GET', `/groups?${query}`);
      expect(answer).toEqual({ status: 400, body: { error: { code: 'BAD_REQUEST', message: expect.any(String) } } });
    }
  });

  it('is `pigeonhole group list`, every page', async () => {
    const groupId = id('cli-listed');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: ['ann', 'bo'] });
    const human = await pigeonhole(['group', 'list']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${groupId}\\s+2 members`));
    const json = await pigeonhole(['group', 'list', '--json']);
    expect(JSON.parse(json.stdout).groups).toContainEqual({ groupId, memberCount: 2 });
  });
});

describe('GET /v1/stats', () => {
  it('counts connections open, messages accepted, stored, delivered, acked and dropped by reason', async () => {
    const before = await stats();
    expect(before).toMatchObject({ source: 'local', since: expect.any(String) });
    const [sender, away, wiped] = [id('sam'), id('ava'), id('wes')];

    const sending = await connect(sender);
    for (const to of [away, away, wiped]) {
      const reply = await sending.request({ action: 'send', type: 'private', target: to, clientMsgId: randomUUID(), body: 'hi' });
      expect(reply).toMatchObject({ type: 'sent', status: 'accepted' });
    }
    const system = await admin(stack, 'POST', '/messages/system', { to: [away], body: 'notice' });
    expect(system.status).toBe(202);
    // A group message is stored once per other member: two copies here.
    const groupId = id('trio');
    await admin(stack, 'PUT', `/groups/${groupId}`, { members: [sender, id('gil'), id('hal')] });
    expect(await sending.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body: 'all' })).toMatchObject({
      status: 'accepted',
    });

    const receiving = await connect(away);
    const messages = await receiving.messages(3);
    expect(await receiving.request({ action: 'ack', ids: messages.map((message) => message.id) })).toMatchObject({ type: 'acked' });
    const cleaned = await connect(wiped, '&cleanStart=true');
    await cleaned.next((frame) => frame.type === 'dropped');

    const during = await stats();
    expect(during.connectionsOpen - before.connectionsOpen).toBe(3);
    expect(during.messages.accepted - before.messages.accepted).toBe(5);
    expect(during.messages.stored - before.messages.stored).toBe(6);
    expect(during.messages.acked - before.messages.acked).toBe(3);
    // A drain reports after its last post: waited for, not slept on.
    await vi.waitFor(async () => {
      const drained = await stats();
      expect(drained.messages.delivered - before.messages.delivered).toBe(3);
      expect(drained.messages.dropped.cleanStart - before.messages.dropped.cleanStart).toBe(1);
    });

    await Promise.all([sending.close(), receiving.close(), cleaned.close()]);
    await vi.waitFor(async () => expect((await stats()).connectionsOpen).toBe(before.connectionsOpen));
  });

  it('is `pigeonhole stats`', async () => {
    const human = await pigeonhole(['stats']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/connections open\s+\d+/);
    expect(human.stdout).toMatch(/dropped\s+\d+ overflow, \d+ expired, \d+ cleanStart/);
    const json = await pigeonhole(['stats', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'local', messages: { accepted: expect.any(Number) } });
  });
});
