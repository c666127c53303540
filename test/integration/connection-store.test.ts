import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectionsOf, registerConnection, sessionExpired } from '../../lib/connecting/connections';
import { attributeBytes, DynamoConnectionStore } from '../../lib/dynamodb/connection-store';
import { connectionsTable } from '../../lib/tables';
import { FaultInjector } from '../../local/faults';
import { createTestTables, localDocumentClient, localDynamoDbClient } from '../support/local-stack';

let store: DynamoConnectionStore;
let tableName: string;

beforeAll(async () => {
  tableName = (await createTestTables([connectionsTable]))(connectionsTable);
  store = new DynamoConnectionStore(localDocumentClient(), tableName);
});

// DynamoDB Local runs TTL deletion: items must expire after the real now, or they vanish mid-test.
const at = (iso: string) => ({ now: () => new Date(iso) });

describe('DynamoConnectionStore', () => {
  it('lists a user’s connections with their devices, and only theirs', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c1', deviceId: 'phone' });
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c2' });
    await registerConnection(store, clock, { userId: 'ben', connectionId: 'c3' });

    const open = await connectionsOf(store, ['ann'], new Date('2030-01-15T10:30:00Z'));
    expect(open.map((c) => [c.connectionId, c.deviceId])).toEqual([
      ['c1', 'phone'],
      ['c2', undefined],
    ]);
    expect(open[0]?.connectedAt).toEqual(new Date('2030-01-15T10:00:00Z'));
  });

  it('stops listing a connection two hours after it opened, before anything removes it', async () => {
    await registerConnection(store, at('2030-01-15T08:00:00Z'), { userId: 'cat', connectionId: 'old' });
    expect(await connectionsOf(store, ['cat'], new Date('2030-01-15T09:59:59Z'))).toHaveLength(1);
    expect(await connectionsOf(store, ['cat'], new Date('2030-01-15T10:00:00Z'))).toHaveLength(0);
  });

  it('removes one connection, leaves the others, and notes when the user was last seen', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd1' });
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd2' });
    await store.remove('dan', 'd1', new Date('2030-01-15T10:05:00Z'));
    const presence = (await store.lookup(['dan'], clock.now())).get('dan');
    expect(presence?.connections.map((c) => c.connectionId)).toEqual(['d2']);
    expect(presence?.lastSeenAt).toEqual(new Date('2030-01-15T10:05:00Z'));
  });

  it('tells a new connection how the user stood before it, and prunes connections whose $disconnect never came', async () => {
    const first = await registerConnection(store, at('2030-01-15T06:00:00Z'), { userId: 'eve', connectionId: 'lost' });
    expect(first.before).toBeUndefined();
    const second = await registerConnection(store, at('2030-01-15T12:00:00Z'), { userId: 'eve', connectionId: 'new' });
    // The lost connection expired at 08:00: that is when eve was last seen.
    expect(second.before).toEqual({ userId: 'eve', connections: [], lastSeenAt: new Date('2030-01-15T08:00:00Z') });
    const item = (await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { userId: 'eve' } }))).Item;
    expect(Object.keys(item ?? {}).filter((key) => key.startsWith('connection:'))).toEqual(['connection:new']);
  });

  it('never locks a user out with stale entries: 700 connections whose $disconnect never came are pruned at the next connect', async () => {
    // Written whole, as 700 connections that all vanished without `$disconnect` would leave the item.
    const stale = Object.fromEntries(
      Array.from({ length: 700 }, (_, i) => [`connection:ghost-${i}`, { connectedAt: '2030-01-10T00:00:00.000Z', expiresAt: Date.parse('2030-01-10T02:00:00Z') / 1000 }]),
    );
    await localDocumentClient().send(new PutCommand({ TableName: tableName, Item: { userId: 'gil', expiresAt: Date.parse('2031-01-10T00:00:00Z') / 1000, ...stale } }));

    const opened = await registerConnection(store, at('2030-01-15T12:00:00Z'), { userId: 'gil', connectionId: 'live' });
    expect(opened.before?.connections).toEqual([]);
    const item = (await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { userId: 'gil' }, ConsistentRead: true }))).Item;
    expect(Object.keys(item ?? {}).filter((key) => key.startsWith('connection:'))).toEqual(['connection:live']);
    expect((await connectionsOf(store, ['gil'], new Date('2030-01-15T12:01:00Z'))).map((c) => c.connectionId)).toEqual(['live']);
  });

  it('marks a new connection draining: pushes are left to it until the drain has handled them all', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    const now = clock.now();
    await registerConnection(store, clock, { userId: 'fay', connectionId: 'f1' });
    expect((await connectionsOf(store, ['fay'], now))[0]?.draining).toBe(true);
    expect(await store.claimDrain('fay', 'f1', 'd1', now)).toEqual({ state: 'claimed' });

    expect(await store.leaveToDrain('fay', 'f1', 'M2', now)).toBe('left');
    expect(await store.leaveToDrain('fay', 'f1', 'M1', now)).toBe('left');
    expect(await store.leaveToDrain('fay', 'f1', 'M3', now)).toBe('left');
    // The drain looked when only one had been left to it: it may not finish yet, and reads again from the smallest.
    expect(await store.finishDrain('fay', 'f1', 1)).toEqual({ done: false, leftCount: 3, leftFrom: 'M1' });
    // What is left after that look starts a smallest id of its own.
    expect(await store.leaveToDrain('fay', 'f1', 'M4', now)).toBe('left');
    expect(await store.finishDrain('fay', 'f1', 3)).toEqual({ done: false, leftCount: 4, leftFrom: 'M4' });
    expect(await store.finishDrain('fay', 'f1', 4)).toEqual({ done: true });

    expect((await connectionsOf(store, ['fay'], now))[0]?.draining).toBeUndefined();
    // Finished: the next push goes straight out, and a repeated drain event finds the drain taken.
    expect(await store.leaveToDrain('fay', 'f1', 'M5', now)).toBe('finished');
    expect(await store.finishDrain('fay', 'f1', 0)).toEqual({ done: true });
    expect(await store.claimDrain('fay', 'f1', 'd2', now)).toEqual({ state: 'taken' });
  });

  it('reads again from the smallest id left when taking it away was done but its answer lost', async () => {
    const faults = new FaultInjector();
    const client = localDynamoDbClient();
    client.middlewareStack.use(faults.plugin as never);
    const faulty = new DynamoConnectionStore(DynamoDBDocumentClient.from(client), tableName);
    const clock = at('2030-01-15T10:00:00Z');
    const now = clock.now();
    await registerConnection(faulty, clock, { userId: 'liv', connectionId: 'l1' });
    expect(await faulty.claimDrain('liv', 'l1', 'd1', now)).toEqual({ state: 'claimed' });
    expect(await faulty.leaveToDrain('liv', 'l1', 'M1', now)).toBe('left');
    // DynamoDB removes leftFrom, the answer is lost, the SDK tries again and finds it already gone.
    faults.inject({
      client: 'DynamoDBClient',
      where: (input) => String(input.UpdateExpression).startsWith('REMOVE #connection.leftFrom'),
      fault: 'lost-reply',
      times: 1,
    });
    expect(await faulty.finishDrain('liv', 'l1', 0)).toEqual({ done: false, leftCount: 1, leftFrom: 'M1' });
    expect(faults.injected.get('DynamoDBClient lost-reply')).toBe(1);
    expect(await faulty.finishDrain('liv', 'l1', 1)).toEqual({ done: true });
  });

  it('keeps the item small whatever a drain is left: 500 pushes during one drain are two numbers', { timeout: 60_000 }, async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'hal', connectionId: 'h1' });
    const ids = Array.from({ length: 500 }, (_, i) => `01J${String(500 - i).padStart(23, '0')}`);
    for (let i = 0; i < ids.length; i += 10) {
      const batch = ids.slice(i, i + 10);
      expect(await Promise.all(batch.map((id) => store.leaveToDrain('hal', 'h1', id, clock.now())))).toEqual(batch.map(() => 'left'));
    }
    const item = (await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { userId: 'hal' }, ConsistentRead: true }))).Item;
    expect(JSON.stringify(item).length).toBeLessThan(400);
    expect(await store.finishDrain('hal', 'h1', 0)).toEqual({ done: false, leftCount: 500, leftFrom: ids.at(-1) });
  });

  it('tells a late drain event that the window passed with no drain, and renews the window only for its own drainer', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'ida', connectionId: 'i1' });
    expect(await store.claimDrain('ida', 'i1', 'late', new Date('2030-01-15T10:00:31Z'))).toEqual({ state: 'missed' });
    expect((await connectionsOf(store, ['ida'], new Date('2030-01-15T10:00:31Z')))[0]?.drainLapsed).toBe(true);
    await registerConnection(store, clock, { userId: 'ida', connectionId: 'i2' });
    expect(await store.claimDrain('ida', 'i2', 'mine', clock.now())).toEqual({ state: 'claimed' });
    expect(await store.extendDrain('ida', 'i2', 'other', clock.now())).toBe(false);
    expect(await store.extendDrain('ida', 'i2', 'mine', new Date('2030-01-15T10:00:20Z'))).toBe(true);
    // Renewed at 10:00:20 for 30 s: still draining at 10:00:45.
    expect((await connectionsOf(store, ['ida'], new Date('2030-01-15T10:00:45Z')))[1]?.draining).toBe(true);
    expect(await store.claimDrain('ida', 'gone', 'x', clock.now())).toEqual({ state: 'gone' });
  });

  it('says a drain that ran past its window without finishing has lapsed, and finishes a drain whose connection is gone', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'gus', connectionId: 'g1' });
    const later = new Date('2030-01-15T10:00:31Z');
    expect((await connectionsOf(store, ['gus'], later))[0]?.draining).toBeUndefined();
    // A push that still saw it draining must not post to it: its queue may not be out.
    expect(await store.leaveToDrain('gus', 'g1', 'M1', later)).toBe('lapsed');
    expect(await store.finishDrain('gus', 'nobody', 0)).toEqual({ done: true, gone: true });
    // Removed since a push looked it up (cut off while its socket was still opening, say): not to be pushed to.
    await registerConnection(store, clock, { userId: 'gus', connectionId: 'g2' });
    await store.remove('gus', 'g2', clock.now());
    expect(await store.leaveToDrain('gus', 'g2', 'M1', clock.now())).toBe('gone');
  });

  it('records what a connection discards, and a later connection starts without it', async () => {
    const discard = { beforeId: '01JAAAAAAAAAAAAAAAAAAAAAAA', reason: 'cleanStart' } as const;
    await registerConnection(store, at('2030-01-15T10:00:00Z'), { userId: 'fay', connectionId: 'f1' }, () => discard);
    expect((await store.lookup(['fay'], new Date('2030-01-15T10:00:01Z'), { consistent: true })).get('fay')?.discard).toEqual(discard);
    await store.setDiscard('fay', { ...discard, reason: 'expired' });
    expect((await store.lookup(['fay'], new Date('2030-01-15T10:00:01Z'))).get('fay')?.discard?.reason).toBe('expired');
    await registerConnection(store, at('2030-01-15T10:00:02Z'), { userId: 'fay', connectionId: 'f2' });
    expect((await store.lookup(['fay'], new Date('2030-01-15T10:00:03Z'))).get('fay')?.discard).toBeUndefined();
  });

  it('removing from a user who has no item creates none', async () => {
    await store.remove('nobody', 'x1', new Date('2030-01-15T10:00:00Z'));
    const result = await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { userId: 'nobody' } }));
    expect(result.Item).toBeUndefined();
  });

  it('looks up many users at once, past the 100 keys of one BatchGetItem', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    const users = Array.from({ length: 250 }, (_, i) => `many-${i}`);
    await Promise.all(
      users.filter((_, i) => i % 2 === 0).map((userId) => registerConnection(store, clock, { userId, connectionId: `c-${userId}` })),
    );
    const presences = await store.lookup([...users, 'many-0'], clock.now());
    expect(presences.size).toBe(125);
    expect(presences.get('many-248')?.connections.map((c) => c.connectionId)).toEqual(['c-many-248']);
    expect(presences.has('many-1')).toBe(false);
  });
});

describe('connections per user (maxConnectionsPerUser)', () => {
  const itemOf = async (userId: string) =>
    (await localDocumentClient().send(new GetCommand({ TableName: tableName, Key: { userId }, ConsistentRead: true }))).Item ?? {};
  const connectionNames = (item: Record<string, unknown>) => Object.keys(item).filter((key) => key.startsWith('connection:'));
  const itemBytes = (item: Record<string, unknown>) => Object.entries(item).reduce((sum, [name, value]) => sum + attributeBytes(name, value), 0);

  it('replaces the oldest past the cap, forgetting them, and never the new one', async () => {
    const replaced: string[][] = [];
    for (let i = 1; i <= 5; i += 1) {
      const opened = await registerConnection(store, at(`2030-01-15T10:0${i}:00Z`), { userId: 'kim', connectionId: `k${i}` }, undefined, 3);
      replaced.push(opened.replaced.map((c) => c.connectionId));
    }
    expect(replaced).toEqual([[], [], [], ['k1'], ['k2']]);
    expect(connectionNames(await itemOf('kim')).sort()).toEqual(['connection:k3', 'connection:k4', 'connection:k5']);
    // A cap lowered to one: the next connection replaces every other.
    const lowered = await registerConnection(store, at('2030-01-15T10:09:00Z'), { userId: 'kim', connectionId: 'k6' }, undefined, 1);
    expect(lowered.replaced.map((c) => c.connectionId)).toEqual(['k3', 'k4', 'k5']);
    expect(connectionNames(await itemOf('kim'))).toEqual(['connection:k6']);
  });

  it('notes the connections it replaced for a minute, the newest hundred at most, so that their drains tell them', async () => {
    // Two connects a second, off the second's edge: a note lapses in whole seconds, and the oldest go first.
    const second = (i: number) => new Date(Date.parse('2030-01-15T10:00:00Z') + i * 500 + 250).toISOString();
    for (let i = 1; i <= 110; i += 1) {
      await registerConnection(store, at(second(i)), { userId: 'mo', connectionId: `m${i}` }, undefined, 1);
    }
    const replacedAt = new Date(second(110));
    expect(await store.wasReplaced('mo', 'm109', replacedAt)).toBe(true);
    expect(await store.wasReplaced('mo', 'm11', replacedAt)).toBe(true);
    // Past the newest hundred, and never replaced:
    expect(await store.wasReplaced('mo', 'm10', replacedAt)).toBe(false);
    expect(await store.wasReplaced('mo', 'm110', replacedAt)).toBe(false);
    expect(Object.keys(await itemOf('mo')).filter((name) => name.startsWith('replaced:'))).toHaveLength(100);
    // A minute on, the notes have lapsed, and the next connect removes them.
    expect(await store.wasReplaced('mo', 'm109', new Date('2030-01-15T10:03:00Z'))).toBe(false);
    await registerConnection(store, at('2030-01-15T10:05:00Z'), { userId: 'mo', connectionId: 'm111' }, undefined, 1);
    expect(Object.keys(await itemOf('mo')).filter((name) => name.startsWith('replaced:'))).toEqual(['replaced:m110']);
  });

  it('keeps the item within its size whatever the ids: 128-character device ids and a cap the item cannot hold', { timeout: 60_000 }, async () => {
    // 20 KB here, for speed: the service's 200 KB holds about 600 such connections, so a cap of 1,000
    // with ids this long meets the size first, as 100 do here.
    const small = new DynamoConnectionStore(localDocumentClient(), tableName, 20 * 1024);
    const deviceId = (i: number) => `device-${i}-`.padEnd(128, 'x');
    const replaced = new Set<string>();
    for (let i = 0; i < 300; i += 10) {
      const wave = await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          registerConnection(small, at('2030-01-15T10:00:00Z'), { userId: 'lou', connectionId: `L${String(i + j).padStart(14, '0')}=`, deviceId: deviceId(i + j) }, undefined, 1000),
        ),
      );
      for (const opened of wave) for (const connection of opened.replaced) replaced.add(connection.connectionId);
    }
    const item = await itemOf('lou');
    // Every connection is recorded or was replaced (and forgotten), oldest first; none was refused.
    const kept = connectionNames(item).map((name) => name.slice('connection:'.length));
    expect(kept.length + replaced.size).toBe(300);
    expect(Math.max(...[...replaced].map((id) => Number(id.slice(1, 15))))).toBeLessThan(Math.min(...kept.map((id) => Number(id.slice(1, 15)))) + 10);
    // Connects that race may each add theirs before any replaces: a wave's worth over, no more.
    expect(itemBytes(item)).toBeLessThanOrEqual(20 * 1024 + 10 * 300);
    expect(kept.length).toBeGreaterThan(50);
    // The newest still take a drain, and a drain is left a message.
    const newest = kept.sort().at(-1) as string;
    expect(await small.claimDrain('lou', newest, 'a-drainer-id-as-long-as-a-uuid-0000000', new Date('2030-01-15T10:00:01Z'))).toEqual({ state: 'claimed' });
    expect(await small.leaveToDrain('lou', newest, '01J00000000000000000000000', new Date('2030-01-15T10:00:01Z'))).toBe('left');
  });

  it('notes that a connection joined a room, and says so when it is removed', async () => {
    const clock = at('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'max', connectionId: 'm1' });
    await registerConnection(store, clock, { userId: 'max', connectionId: 'm2' });
    expect(await store.addRoom('max', 'm1')).toBe(true);
    expect(await store.addRoom('max', 'gone')).toBe(false);
    expect(await store.remove('max', 'm1', clock.now())).toEqual({ joinedRooms: true });
    expect(await store.remove('max', 'm2', clock.now())).toEqual({ joinedRooms: false });
  });
});

describe('session expiry', () => {
  const now = new Date('2030-01-15T12:00:00Z');
  const away = (hours: number) => ({ userId: 'u', connections: [], lastSeenAt: new Date(now.getTime() - hours * 3_600_000) });

  it('never expires a session when sessionExpiryHours is 0', () => {
    expect(sessionExpired(away(10_000), now, 0)).toBe(false);
  });

  it('expires the session of a user away longer than the setting, and only then', () => {
    expect(sessionExpired(away(25), now, 24)).toBe(true);
    expect(sessionExpired(away(23), now, 24)).toBe(false);
  });

  it('keeps the session of a user who is online, and of one never seen', () => {
    const online = { ...away(100), connections: [{ userId: 'u', connectionId: 'c', connectedAt: now }] };
    expect(sessionExpired(online, now, 24)).toBe(false);
    expect(sessionExpired(undefined, now, 24)).toBe(false);
  });
});
