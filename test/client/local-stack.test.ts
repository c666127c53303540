/**
 * The client SDK (SPEC §10) against the local stack, on real WebSockets: the backlog, acks, a throwing
 * listener, fresh tokens, rooms and history. Imported as apps import it, from the built `pigeonhole/client`.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PigeonholeError, type ConnectionState, type PigeonholeClient } from 'pigeonhole/client';
import type { LocalStack } from '../../local/stack';
import { admin } from '../support/admin';
import { startTestStack, untilSettled } from '../support/local-stack';
import WebSocket from 'ws';
import { defaultAppSettings } from '../../lib/retention/settings';
import { offlineMessagesTable } from '../../lib/tables';
import { itemsOf } from '../support/snapshot';
import { clientFor, collect, nextEvent, watchConnections } from './helpers';

let stack: LocalStack;
let connections: ReturnType<typeof watchConnections>;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
  connections = watchConnections(stack);
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function clientOf(userId: string, options: Parameters<typeof clientFor>[2] = {}): Promise<PigeonholeClient> {
  return clientFor(stack.wsUrl, await stack.issueToken(userId), options);
}

async function queued(userId: string): Promise<number> {
  return (await admin(stack, 'GET', `/users/${userId}/offline`)).body.count as number;
}

/** Sends in batches, so the local stack is not asked to run hundreds of handlers at once. */
async function sendMany(sender: PigeonholeClient, target: string, bodies: readonly unknown[], batch = 25): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bodies.length; i += batch) {
    const replies = await Promise.all(bodies.slice(i, i + batch).map((body) => sender.send({ type: 'private', target, body })));
    ids.push(...replies.map((reply) => reply.id));
  }
  return ids;
}

describe('the client against the local stack', () => {
  it('hands a backlog of 500 to the app once each, in order, and acks it', async () => {
    // The send rate and the sender cap out of the way: this is about the backlog (the rate has its own test below).
    await admin(stack, 'PATCH', '/config', { sendBurst: 1000, maxOfflineMessagesPerSender: null });
    const [senderId, readerId] = [id('ann'), id('ben')];
    const sender = await clientOf(senderId);
    await sender.connect();
    const sentIds = await sendMany(sender, readerId, Array.from({ length: 500 }, (_, i) => ({ n: i })));
    await sender.close();

    const reader = await clientOf(readerId);
    const inbox = collect(reader);
    await reader.connect();
    const handed = await inbox.until(500);
    // The drain's `drained` frame comes after its messages: the client acks them all by bound then.
    for (let waited = 0; (await queued(readerId)) > 0 && waited < 10_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    await reader.close();

    expect(handed.map((m) => m.id)).toEqual([...sentIds].sort());
    expect(new Set(handed.map((m) => m.id)).size).toBe(500);
    expect(await queued(readerId)).toBe(0);
    // Acknowledged by the drain's bound, in one frame: the items wait for their TTL, none deleted one by one.
    expect(await itemsOf(stack, offlineMessagesTable, readerId)).toHaveLength(500);
    await admin(stack, 'PATCH', '/config', { sendBurst: defaultAppSettings.sendBurst, maxOfflineMessagesPerSender: defaultAppSettings.maxOfflineMessagesPerSender });
  }, 120_000);

  it('leaves a message whose listener threw unacked, and hands it over again when it comes again', async () => {
    const [senderId, readerId] = [id('cat'), id('dan')];
    const sender = await clientOf(senderId);
    await sender.connect();
    await sendMany(sender, readerId, ['one', 'two', 'three'], 1);

    const reader = await clientOf(readerId);
    let thrown = 0;
    const inbox = collect(reader, (message) => {
      if (message.body === 'two' && thrown++ === 0) throw new Error('the app failed on this one');
    });
    const failure = nextEvent(reader, 'error');
    await reader.connect();
    await inbox.until(2);
    expect(await failure).toMatchObject({ code: 'LISTENER' });
    await reader.close();
    expect(inbox.handed.map((m) => m.body)).toEqual(['one', 'three']);
    expect(await queued(readerId)).toBe(1);

    // The next connection gets it again, and this time the app takes it.
    const reopened = nextEvent(reader, 'state', (state) => state === 'open');
    await reader.connect();
    await reopened;
    await inbox.until(3);
    await reader.close();
    expect(inbox.handed.map((m) => m.body)).toEqual(['one', 'three', 'two']);
    expect(await queued(readerId)).toBe(0);
    await sender.close();
  });

  it('asks token() again for every attempt, and says UNAUTHORIZED after repeated refusals', async () => {
    const userId = id('eve');
    const good = await stack.issueToken(userId);
    const tokens: string[] = [];
    // Three refused upgrades first (a forged token), then a good one.
    const client = clientFor(stack.wsUrl, async () => {
      tokens.push(tokens.length < 3 ? 'forged.token.value' : good);
      return tokens.at(-1) as string;
    });
    const unauthorized = nextEvent(client, 'error', (error) => error.code === 'UNAUTHORIZED');
    await client.connect();
    expect(await unauthorized).toBeInstanceOf(PigeonholeError);
    expect(tokens).toHaveLength(4);

    // Dropped by the service: it reconnects by itself, with a token asked for again.
    const states: ConnectionState[] = [];
    client.on('state', (state) => void states.push(state));
    const reopened = nextEvent(client, 'state', (state) => state === 'open');
    expect(await connections.drop(userId)).toBe(1);
    await reopened;
    expect(states).toEqual(['reconnecting', 'open']);
    expect(tokens).toHaveLength(5);
    await client.close();
    expect(client.state).toBe('closed');
  });

  it('joins its rooms again after a reconnect', async () => {
    const room = id('lobby');
    const [listenerId, speakerId] = [id('fay'), id('gus')];
    const [listener, speaker] = [await clientOf(listenerId), await clientOf(speakerId)];
    await Promise.all([listener.connect(), speaker.connect()]);
    await Promise.all([listener.joinRoom(room), speaker.joinRoom(room)]);
    const inbox = collect(listener);

    const reopened = nextEvent(listener, 'state', (state) => state === 'open');
    await connections.drop(listenerId);
    // 'open' comes once the rooms are joined again.
    await reopened;
    // Nothing of a room is stored: a message reaches the new connection once API Gateway accepts posts on it.
    await untilSettled(stack);
    await speaker.send({ type: 'chatroom', target: room, body: 'after the reconnect' });
    expect((await inbox.until(1)).map((m) => [m.type, m.body])).toEqual([['chatroom', 'after the reconnect']]);
    await Promise.all([listener.close(), speaker.close()]);
  });

  it('reads every page of history, newest first, and answers the other requests', async () => {
    const [aliceId, bobId] = [id('hal'), id('ivy')];
    const alice = await clientOf(aliceId);
    await alice.connect();
    const sentIds = await sendMany(alice, bobId, ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'], 1);

    const pages: string[] = [];
    for await (const message of alice.history({ type: 'private', target: bobId, limit: 3 })) pages.push(message.id);
    expect(pages).toEqual([...sentIds].reverse());

    expect(await alice.recent()).toEqual([expect.objectContaining({ type: 'private', target: bobId })]);
    // A refusal rejects with the wire code.
    await expect(alice.getOfflineMessageDuration()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await admin(stack, 'PATCH', '/config', { userLevelSettingsEnabled: true });
    expect(await alice.setOfflineMessageDuration(3)).toEqual({ days: 3, source: 'user' });
    expect(await alice.getOfflineMessageDuration()).toEqual({ days: 3, source: 'user' });
    await expect(alice.setOfflineMessageDuration(9)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
    await expect(alice.sync()).resolves.toBe(0);
    await alice.close();
  });

  it('waits out the server’s RATE_LIMITED and gets every send accepted, once each', async () => {
    await admin(stack, 'PATCH', '/config', { sendBurst: 10, sendRatePerSecond: 20 });
    const refusals: number[] = [];
    /** `ws`, telling the test what the server refused. */
    class Watching extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        this.on('message', (data) => {
          const frame = JSON.parse(data.toString()) as { code?: string; retryAfterMs?: number };
          if (frame.code === 'RATE_LIMITED') refusals.push(frame.retryAfterMs ?? 0);
        });
      }
    }
    const [senderId, readerId] = [id('pat'), id('quin')];
    const sender = await clientOf(senderId, { WebSocket: Watching as unknown as typeof WebSocket });
    await sender.connect();
    const replies = await Promise.all(Array.from({ length: 40 }, (_, n) => sender.send({ type: 'private', target: readerId, body: { n } })));
    await sender.close();
    await admin(stack, 'PATCH', '/config', { sendBurst: defaultAppSettings.sendBurst, sendRatePerSecond: defaultAppSettings.sendRatePerSecond });

    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((ms) => ms > 0)).toBe(true);
    expect(replies.every((reply) => reply.status === 'accepted')).toBe(true);
    expect(new Set(replies.map((reply) => reply.id)).size).toBe(40);
    expect(await queued(readerId)).toBe(40);
  }, 60_000);

  it('stops for good, without reconnecting, when a newer connection of the user replaces it', async () => {
    await admin(stack, 'PATCH', '/config', { maxConnectionsPerUser: 2 });
    const userId = id('rex');
    const [oldest, middle, newest] = [await clientOf(userId), await clientOf(userId), await clientOf(userId)];
    await oldest.connect();
    await middle.connect();
    const replaced = nextEvent(oldest, 'error', (error) => error.code === 'REPLACED');
    const closed = nextEvent(oldest, 'state', (state) => state === 'closed');
    await newest.connect();
    await Promise.all([replaced, closed]);
    // The two left still work, and the replaced one opened no connection since.
    const opened = connections.openedBy(userId);
    await expect(middle.sync()).resolves.toBe(0);
    await expect(newest.sync()).resolves.toBe(0);
    expect(oldest.state).toBe('closed');
    expect(connections.openedBy(userId)).toBe(opened);
    await Promise.all([oldest.close(), middle.close(), newest.close()]);
    await admin(stack, 'PATCH', '/config', { maxConnectionsPerUser: defaultAppSettings.maxConnectionsPerUser });
  });

  it('refuses a message too large for one API Gateway frame before sending it', async () => {
    const client = await clientOf(id('jon'));
    await client.connect();
    const body = 'x'.repeat(33 * 1024);
    await expect(client.send({ type: 'private', target: id('kim'), body })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    // The connection is still the first one: nothing went out that API Gateway would close it for.
    expect(client.state).toBe('open');
    await expect(client.send({ type: 'private', target: id('kim'), body: 'small' })).resolves.toMatchObject({ status: 'accepted' });
    await client.close();
  });
});
