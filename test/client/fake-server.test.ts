/**
 * What the local stack does not do on demand, or not at an exact moment: RATE_LIMITED with a chosen
 * retryAfterMs (local-stack.test.ts meets the real one), INTERNAL, CONFLICT, replies out of order, a
 * silent connection, a `closing` frame. A tiny `ws` server on loopback answers as a test tells it to,
 * and keeps every frame the client sent.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { localStorageOutbox, PigeonholeError, type KeyValueStorage } from 'pigeonhole/client';
import type { Message } from '../../lib/protocol';
import { clientFor, collect, nextEvent } from './helpers';

type Frame = Record<string, unknown> & { action: string; requestId?: string };

interface FakeServer {
  url: string;
  /** Every frame received, with the connection's number (1, 2, …) and when. */
  frames: Array<{ frame: Frame; connection: number; at: number }>;
  connections: number;
  /** Resolves once `count` frames match. */
  received(match: (frame: Frame) => boolean, count?: number): Promise<Frame[]>;
  stop(): Promise<void>;
}

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function fakeServer(answer: (frame: Frame, socket: WebSocket, connection: number) => void): Promise<FakeServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const waiters: Array<() => void> = [];
  const server: FakeServer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    frames: [],
    connections: 0,
    received(match, count = 1) {
      const matching = () => server.frames.map((f) => f.frame).filter(match);
      return new Promise((resolve) => {
        const check = () => {
          if (matching().length < count) return false;
          resolve(matching());
          return true;
        };
        if (!check()) waiters.push(() => void check());
      });
    },
    stop: () =>
      new Promise((resolve) => {
        for (const socket of wss.clients) socket.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on('connection', (socket) => {
    const connection = ++server.connections;
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Frame;
      server.frames.push({ frame, connection, at: performance.now() });
      for (const waiter of [...waiters]) waiter();
      answer(frame, socket, connection);
    });
  });
  servers.push(server);
  return server;
}

const reply = (socket: WebSocket, frame: Frame, fields: Record<string, unknown>) => socket.send(JSON.stringify({ ...fields, requestId: frame.requestId }));
const sent = (socket: WebSocket, frame: Frame, id = '01JZZZZZZZZZZZZZZZZZZZZZZZ') =>
  reply(socket, frame, { type: 'sent', clientMsgId: frame.clientMsgId, id, status: 'accepted' });

function message(n: number): Message {
  return {
    id: `01K${String(n).padStart(23, '0')}`,
    type: 'private',
    from: 'ann',
    to: 'ben',
    body: { n },
    sentAt: '2026-12-01T00:00:00.000Z',
    expiresAt: '2026-12-08T00:00:00.000Z',
    qos: 1,
  };
}

describe('the client against a scripted server', () => {
  it('waits out RATE_LIMITED by its retryAfterMs, then resends with the same clientMsgId', async () => {
    const retryAfterMs = 300;
    let sends = 0;
    const server = await fakeServer((frame, socket) => {
      if (frame.action !== 'send') return;
      if (++sends === 1) reply(socket, frame, { type: 'error', code: 'RATE_LIMITED', message: 'slow down', retryAfterMs });
      else sent(socket, frame);
    });
    const client = clientFor(server.url, 'token');
    await client.connect();
    await expect(client.send({ type: 'private', target: 'ben', body: 'hi' })).resolves.toMatchObject({ status: 'accepted' });
    await client.close();

    const [first, second] = server.frames.filter((f) => f.frame.action === 'send');
    expect(second?.frame.clientMsgId).toBe(first?.frame.clientMsgId);
    // A lower bound only: timers never fire early.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(retryAfterMs - 20);
  });

  it('resends after INTERNAL, and rejects on a definitive error with the wire code', async () => {
    let internals = 0;
    const server = await fakeServer((frame, socket) => {
      if (frame.action !== 'send') return;
      if (frame.body === 'conflict') return reply(socket, frame, { type: 'error', code: 'CONFLICT', message: 'clientMsgId reused for another message' });
      if (internals++ === 0) return reply(socket, frame, { type: 'error', code: 'INTERNAL', message: 'internal error' });
      sent(socket, frame);
    });
    const client = clientFor(server.url, 'token');
    await client.connect();
    await expect(client.send({ type: 'private', target: 'ben', body: 'hi', clientMsgId: 'm1' })).resolves.toMatchObject({ clientMsgId: 'm1' });
    const refused = client.send({ type: 'private', target: 'ben', body: 'conflict', clientMsgId: 'm1' });
    await expect(refused).rejects.toBeInstanceOf(PigeonholeError);
    await expect(refused).rejects.toMatchObject({ code: 'CONFLICT' });
    await client.close();
    expect(server.frames.filter((f) => f.frame.action === 'send')).toHaveLength(3);
  });

  it('matches replies by requestId when they come out of order, and times out a request that gets none', async () => {
    let held: Frame | undefined;
    const server = await fakeServer((frame, socket) => {
      if (frame.action === 'history') held = frame;
      if (frame.action === 'recent') {
        reply(socket, frame, { type: 'recent', conversations: [] });
        if (held) reply(socket, held, { type: 'history', messages: [message(1)], next: null });
      }
    });
    const client = clientFor(server.url, 'token', { requestTimeoutMs: 300 });
    await client.connect();
    const history = (async () => {
      const all: Message[] = [];
      for await (const m of client.history({ type: 'private', target: 'ann' })) all.push(m);
      return all;
    })();
    await server.received((f) => f.action === 'history');
    await expect(client.recent()).resolves.toEqual([]);
    await expect(history).resolves.toEqual([message(1)]);
    await expect(client.getOfflineMessageDuration()).rejects.toMatchObject({ code: 'TIMEOUT' });
    await client.close();
  });

  it('acks after the listeners, at most 100 ids a frame, and acks a repeat of a handed message again', async () => {
    const backlog = Array.from({ length: 250 }, (_, n) => message(n));
    const server = await fakeServer((frame, socket, connection) => {
      if (frame.action === 'ack') reply(socket, frame, { type: 'acked', ids: frame.ids });
      const firstPing = frame.action === 'ping' && connection === 1 && server.frames.filter((f) => f.frame.action === 'ping').length === 1;
      if (firstPing) socket.send(JSON.stringify({ type: 'messages', messages: [...backlog, backlog[0]] }));
    });
    const client = clientFor(server.url, 'token', { pingIntervalMs: 50 });
    const inbox = collect(client, async () => {
      // Acks wait for promises the listeners return.
      await new Promise((resolve) => setImmediate(resolve));
    });
    await client.connect();
    await inbox.until(250);
    const acks = await server.received((f) => f.action === 'ack', 3);
    await client.close();

    expect(inbox.handed.map((m) => m.id)).toEqual(backlog.map((m) => m.id));
    const ackFrames = server.frames.filter((f) => f.frame.action === 'ack').map((f) => f.frame.ids as string[]);
    expect(ackFrames.every((ids) => ids.length <= 100)).toBe(true);
    expect(new Set(ackFrames.flat())).toEqual(new Set(backlog.map((m) => m.id)));
    expect(acks.length).toBeGreaterThanOrEqual(3);
    // The repeat came after the first id's ack had gone out: it is acked again, not handed again.
    expect(ackFrames.flat().filter((id) => id === backlog[0]?.id)).toHaveLength(2);
  });

  it('waits in close() for the replies to acks already sent, rather than close the socket under them', async () => {
    const backlog = Array.from({ length: 100 }, (_, n) => message(n));
    const answeredOnOpenSocket: boolean[] = [];
    const server = await fakeServer((frame, socket) => {
      if (frame.action === 'ping') socket.send(JSON.stringify({ type: 'messages', messages: backlog }));
      // A slow ack, as a busy route is: answered only if the client is still there to hear it.
      if (frame.action === 'ack') {
        setTimeout(() => {
          answeredOnOpenSocket.push(socket.readyState === WebSocket.OPEN);
          reply(socket, frame, { type: 'acked', ids: frame.ids });
        }, 300);
      }
    });
    const client = clientFor(server.url, 'token', { pingIntervalMs: 50 });
    const inbox = collect(client);
    await client.connect();
    await inbox.until(100);
    // The hundredth message sent its ack frame at once; close() comes while it is unanswered.
    await server.received((f) => f.action === 'ack');
    await client.close();
    expect(answeredOnOpenSocket).toEqual([true]);
  });

  it('remembers only so many ids: one forgotten is handed over again if it comes again', async () => {
    const server = await fakeServer((frame, socket, connection) => {
      if (frame.action === 'ack') reply(socket, frame, { type: 'acked', ids: frame.ids });
      const arrivals = [message(1), message(2), message(1), message(3), message(1)];
      if (frame.action === 'ping' && connection === 1 && server.frames.filter((f) => f.frame.action === 'ping').length === 1) {
        socket.send(JSON.stringify({ type: 'messages', messages: arrivals }));
      }
    });
    const client = clientFor(server.url, 'token', { seenIdsLimit: 2, pingIntervalMs: 50 });
    const inbox = collect(client);
    await client.connect();
    const handed = await inbox.until(4);
    await client.close();
    // The second 1 is dropped (remembered); by the third, 2 and 3 have pushed it out.
    expect(handed.map((m) => (m.body as { n: number }).n)).toEqual([1, 2, 3, 1]);
  });

  it('keeps the connection alive with pings, and replaces one that stops answering', async () => {
    let silent = false;
    const server = await fakeServer((frame, socket, connection) => {
      if (frame.action !== 'ping') return;
      if (connection === 1 && server.frames.filter((f) => f.frame.action === 'ping').length >= 3) silent = true;
      if (!(silent && connection === 1)) reply(socket, frame, { type: 'pong' });
    });
    const client = clientFor(server.url, 'token', { pingIntervalMs: 50, requestTimeoutMs: 200 });
    await client.connect();
    const reconnected = nextEvent(client, 'state', (state) => state === 'open');
    await reconnected;
    expect(server.connections).toBe(2);
    await client.close();
  });

  it('stops for good when the server says it replaced this connection', async () => {
    const server = await fakeServer((frame, socket) => {
      if (frame.action !== 'ping') return;
      socket.send(JSON.stringify({ type: 'closing', reason: 'replaced' }));
      socket.close(1000);
    });
    const client = clientFor(server.url, 'token', { pingIntervalMs: 50 });
    const replaced = nextEvent(client, 'error', (error) => error.code === 'REPLACED');
    const closed = nextEvent(client, 'state', (state) => state === 'closed');
    await client.connect();
    await Promise.all([replaced, closed]);
    expect(client.state).toBe('closed');
    expect(server.connections).toBe(1);
  });

  it('keeps an unanswered send in localStorage across a reload, and resends it with its clientMsgId', async () => {
    const storage = memoryStorage();
    const emptied = new Promise<void>((resolve) => (storage.onChange = (value) => value === '[]' && resolve()));
    let answering = false;
    const server = await fakeServer((frame, socket) => {
      if (frame.action === 'send' && answering) sent(socket, frame);
    });
    const before = clientFor(server.url, 'token', { outbox: localStorageOutbox('outbox', storage) });
    await before.connect();
    const unanswered = before.send({ type: 'private', target: 'ben', body: 'survives a reload', clientMsgId: 'kept-1' }).catch((error: unknown) => error);
    await server.received((f) => f.action === 'send');
    await before.close();
    expect(await unanswered).toMatchObject({ code: 'CLOSED' });
    expect(JSON.parse(storage.getItem('outbox') ?? '[]')).toHaveLength(1);

    answering = true;
    const after = clientFor(server.url, 'token', { outbox: localStorageOutbox('outbox', storage) });
    const resent = new Promise((resolve) => after.on('resent', resolve));
    await after.connect();
    // The new page hears how the old page's send ended.
    expect(await resent).toEqual({ clientMsgId: 'kept-1', result: { clientMsgId: 'kept-1', id: expect.any(String), status: 'accepted' } });
    await server.received((f) => f.action === 'send', 2);
    // Answered: gone from the outbox.
    await emptied;
    await after.close();
    expect(server.frames.filter((f) => f.frame.action === 'send').map((f) => [f.connection, f.frame.clientMsgId])).toEqual([
      [1, 'kept-1'],
      [2, 'kept-1'],
    ]);
  });
});

function memoryStorage(): KeyValueStorage & { onChange?: (value: string) => void } {
  const items = new Map<string, string>();
  const storage: KeyValueStorage & { onChange?: (value: string) => void } = {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, value);
      storage.onChange?.(value);
    },
  };
  return storage;
}
