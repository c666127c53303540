/** Chatroom sends (lib/conversations/chatrooms.ts) post to members a bounded number at a time. */
import { describe, expect, it } from 'vitest';
import { roomPostConcurrency, sendToRoom } from '../../lib/conversations/chatrooms';
import { forEachLimited } from '../../lib/concurrency';
import { sendFrameSchema } from '../../lib/protocol';
import type { RoomMember } from '../../lib/conversations/chatrooms';

const now = new Date('2030-01-15T10:00:00Z');
const caller = { userId: 'alice', connectionId: 'c-alice' };

describe('a chatroom send', () => {
  it(`posts to a room of 500 at most ${roomPostConcurrency} at a time, reaches every member, and lets go of the gone`, async () => {
    const members: RoomMember[] = [caller, ...Array.from({ length: 500 }, (_, i) => ({ userId: `u${i}`, connectionId: `c${i}` }))];
    const posted: string[] = [];
    const left: string[] = [];
    let inFlight = 0;
    let peak = 0;
    const reply = await sendToRoom(
      {
        rooms: {
          join: async () => undefined,
          leave: async (_roomId, connectionId) => {
            left.push(connectionId);
            return true;
          },
          isMember: async () => true,
          members: async () => members,
          roomsOf: async () => [],
        },
        poster: {
          isOpen: async () => true,
          post: async (connectionId) => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            await new Promise((resolve) => setTimeout(resolve, 1));
            inFlight -= 1;
            posted.push(connectionId);
            return connectionId === 'c7' ? 'gone' : 'delivered';
          },
          close: async () => 'closed' as const,
        },
        clock: { now: () => now },
        log: { warn: () => undefined },
        newId: () => 'm1',
      },
      caller,
      sendFrameSchema.parse({ action: 'send', type: 'chatroom', target: 'lobby', clientMsgId: 'x', body: 'hi' }),
      '"hi"',
    );
    expect(reply).toMatchObject({ type: 'sent', id: 'm1', status: 'accepted' });
    expect(peak).toBe(roomPostConcurrency);
    expect(posted).toHaveLength(500);
    expect(posted).not.toContain('c-alice');
    expect(left).toEqual(['c7']);
  });
});

describe('forEachLimited', () => {
  it('runs everything, at most the limit at once, and passes on a failure', async () => {
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5], 2, async (n) => void seen.push(n));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    await forEachLimited([], 4, async () => undefined);
    await expect(
      forEachLimited([1, 2, 3], 2, async (n) => {
        if (n === 2) throw new Error('two');
      }),
    ).rejects.toThrow('two');
  });
});
