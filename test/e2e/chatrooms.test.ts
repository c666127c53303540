/** Chatrooms end to end (SPEC §2, §4): online only, membership per connection, never stored. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol';
import { historyTable, offlineMessagesTable, roomMembersTable } from '../../lib/tables';
import type { LocalStack } from '../../local/stack';
import { TestClient } from '../support/client';
import { startTestStack, untilSettled } from '../support/local-stack';
import { itemsOf } from '../support/snapshot';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const id = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function connect(userId: string): Promise<TestClient> {
  return TestClient.connect(`${stack.wsUrl}/?token=${await stack.issueToken(userId)}`);
}

function say(client: TestClient, room: string, body: unknown, extra: Record<string, unknown> = {}) {
  return client.request({ action: 'send', type: 'chatroom', target: room, clientMsgId: randomUUID(), body, ...extra });
}


describe('chatrooms', () => {
  it('delivers to the connected members, always as qos 0, and stores nothing', async () => {
    const room = id('lobby');
    const [speakerId, listenerId] = [id('sid'), id('lia')];
    const [speaker, listener] = await Promise.all([connect(speakerId), connect(listenerId)]);
    expect(await speaker.request({ action: 'joinRoom', room })).toMatchObject({ type: 'joined', room });
    expect(await listener.request({ action: 'joinRoom', room })).toMatchObject({ type: 'joined', room });
    await untilSettled(stack); // Nothing of a room is stored: it reaches connections that accept posts.

    const sent = await say(speaker, room, 'hello room', { qos: 1 });
    expect(sent).toMatchObject({ type: 'sent', status: 'accepted' });
    expect(await listener.messages(1)).toEqual([
      expect.objectContaining({ id: sent.id, type: 'chatroom', from: speakerId, to: room, body: 'hello room', qos: 0 }),
    ]);
    expect(speaker.messageFrames).toEqual([]);
    expect(await itemsOf(stack, offlineMessagesTable, listenerId)).toHaveLength(0);
    expect(await itemsOf(stack, historyTable, `g#${room}`)).toHaveLength(0);
    await Promise.all([speaker.close(), listener.close()]);
  });

  it('does not reach a member who left', async () => {
    const room = id('cafe');
    const [speaker, stayer, leaver] = await Promise.all([connect(id('sam')), connect(id('sta')), connect(id('lev'))]);
    for (const client of [speaker, stayer, leaver]) await client.request({ action: 'joinRoom', room });
    await untilSettled(stack);
    expect(await leaver.request({ action: 'leaveRoom', room })).toMatchObject({ type: 'left', room });

    await say(speaker, room, 'after you left');
    expect((await stayer.messages(1)).map((m: Message) => m.body)).toEqual(['after you left']);
    // A ping sent after the chatroom message comes back after anything the room could have sent.
    await leaver.request({ action: 'ping' });
    expect(leaver.messageFrames).toEqual([]);
    await Promise.all([speaker.close(), stayer.close(), leaver.close()]);
  });

  it('ends membership when the connection closes', async () => {
    const room = id('hall');
    const userId = id('dora');
    const first = await connect(userId);
    await first.request({ action: 'joinRoom', room });
    expect(await itemsOf(stack, roomMembersTable, room)).toHaveLength(1);
    const gone = new Promise((resolve) => stack.gateway.events.once('disconnected', resolve));
    await first.close();
    await gone;
    expect(await itemsOf(stack, roomMembersTable, room)).toHaveLength(0);

    // The same user on a new connection is not in the room until it joins.
    const second = await connect(userId);
    expect(await say(second, room, 'am I in?')).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    await second.close();
  });

  it('refuses a message to a room the connection has not joined', async () => {
    const client = await connect(id('nils'));
    expect(await say(client, id('elsewhere'), 'hi')).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
    expect(await client.request({ action: 'joinRoom', room: 'not a room' })).toMatchObject({ code: 'BAD_REQUEST' });
    await client.close();
  });
});
