import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectionsOf, registerConnection } from '../../lib/connections';
import { DynamoConnectionStore } from '../../lib/dynamodb/connection-store';
import { connectionsTable } from '../../lib/tables';
import { createTestTables, localDocumentClient } from '../support/local-stack';

let store: DynamoConnectionStore;
let tableName: string;

beforeAll(async () => {
  tableName = (await createTestTables([connectionsTable]))(connectionsTable);
  store = new DynamoConnectionStore(localDocumentClient(), tableName);
});

// DynamoDB Local runs TTL deletion: items must expire after the real now, or they vanish mid-test.
const fixedClock = (iso: string) => ({ now: () => new Date(iso) });

describe('DynamoConnectionStore', () => {
  it('lists a user’s connections with their devices, and only theirs', async () => {
    const clock = fixedClock('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c1', deviceId: 'phone' });
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c2' });
    await registerConnection(store, clock, { userId: 'ben', connectionId: 'c3' });

    const open = await connectionsOf(store, 'ann', new Date('2030-01-15T10:30:00Z'));
    expect(open.map((c) => [c.connectionId, c.deviceId])).toEqual([
      ['c1', 'phone'],
      ['c2', undefined],
    ]);
    expect(open[0]?.connectedAt).toEqual(new Date('2030-01-15T10:00:00Z'));
  });

  it('stops listing a record two hours after the connection opened, before TTL removes it', async () => {
    await registerConnection(store, fixedClock('2030-01-15T08:00:00Z'), { userId: 'cat', connectionId: 'old' });
    expect(await connectionsOf(store, 'cat', new Date('2030-01-15T09:59:59Z'))).toHaveLength(1);
    expect(await connectionsOf(store, 'cat', new Date('2030-01-15T10:00:00Z'))).toHaveLength(0);
  });

  it('deletes one connection and leaves the others', async () => {
    const clock = fixedClock('2030-01-15T10:00:00Z');
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd1' });
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd2' });
    await store.remove('dan', 'd1');
    expect((await connectionsOf(store, 'dan', clock.now())).map((c) => c.connectionId)).toEqual(['d2']);
  });

  it('removing from a user who has no item creates none', async () => {
    await store.remove('nobody', 'x1');
    const result = await localDocumentClient().send(
      new GetCommand({ TableName: tableName, Key: { userId: 'nobody' } }),
    );
    expect(result.Item).toBeUndefined();
  });

  it('looks up many users at once, past the 100 keys of one BatchGetItem', async () => {
    const clock = fixedClock('2030-01-15T10:00:00Z');
    const users = Array.from({ length: 250 }, (_, i) => `many-${i}`);
    await Promise.all(users.filter((_, i) => i % 2 === 0).map((userId) => registerConnection(store, clock, { userId, connectionId: `c-${userId}` })));
    const online = await store.listByUsers([...users, 'many-0'], clock.now());
    expect(online.size).toBe(125);
    expect(online.get('many-248')?.map((c) => c.connectionId)).toEqual(['c-many-248']);
    expect(online.has('many-1')).toBe(false);
  });
});
