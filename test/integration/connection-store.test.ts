import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerConnection } from '../../lib/connections';
import { DynamoConnectionStore } from '../../lib/dynamodb/connection-store';
import { connectionsTable } from '../../lib/tables';
import { ensureTables, localTableName } from '../../local/tables';
import { localDocumentClient, localDynamoDbEndpoint, uniqueTablePrefix } from '../support/local-stack';

const prefix = uniqueTablePrefix();
let store: DynamoConnectionStore;

beforeAll(async () => {
  const client = new DynamoDBClient({
    endpoint: localDynamoDbEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTables(client, prefix, [connectionsTable]);
  store = new DynamoConnectionStore(localDocumentClient(), localTableName(prefix, connectionsTable));
});

const fixedClock = (iso: string) => ({ now: () => new Date(iso) });

describe('DynamoConnectionStore', () => {
  it('lists a user’s connections with their devices, and only theirs', async () => {
    const clock = fixedClock('2026-11-21T10:00:00Z');
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c1', deviceId: 'phone' });
    await registerConnection(store, clock, { userId: 'ann', connectionId: 'c2' });
    await registerConnection(store, clock, { userId: 'ben', connectionId: 'c3' });

    const open = await store.listByUser('ann', new Date('2026-11-21T10:30:00Z'));
    expect(open.map((c) => [c.connectionId, c.deviceId])).toEqual([
      ['c1', 'phone'],
      ['c2', undefined],
    ]);
    expect(open[0]?.connectedAt).toEqual(new Date('2026-11-21T10:00:00Z'));
  });

  it('stops listing a record two hours after the connection opened, before TTL removes it', async () => {
    await registerConnection(store, fixedClock('2026-11-21T08:00:00Z'), { userId: 'cat', connectionId: 'old' });
    expect(await store.listByUser('cat', new Date('2026-11-21T09:59:59Z'))).toHaveLength(1);
    expect(await store.listByUser('cat', new Date('2026-11-21T10:00:00Z'))).toHaveLength(0);
  });

  it('deletes one connection and leaves the others', async () => {
    const clock = fixedClock('2026-11-21T10:00:00Z');
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd1' });
    await registerConnection(store, clock, { userId: 'dan', connectionId: 'd2' });
    await store.delete('dan', 'd1');
    expect((await store.listByUser('dan', clock.now())).map((c) => c.connectionId)).toEqual(['d2']);
  });
});
