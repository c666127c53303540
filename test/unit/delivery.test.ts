/**
 * Pushing to open connections (lib/delivery/push.ts): what a 410 means depends on whether the connection
 * has only just been recorded.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, ConnectionStore } from '../../lib/connecting/connections';
import { pushFrames, type PushDeps } from '../../lib/delivery/push';

const now = new Date('2030-01-15T10:00:00Z');

function deps(answer: 'gone' | 'delivered'): PushDeps & { removed: string[]; posted: string[] } {
  const removed: string[] = [];
  const posted: string[] = [];
  // Only what a push of an unstored message uses.
  const connections = {
    remove: async (_userId: string, connectionId: string) => {
      removed.push(connectionId);
      return { rooms: [] };
    },
  } as unknown as ConnectionStore;
  return {
    removed,
    posted,
    connections,
    poster: {
      post: async (connectionId) => {
        posted.push(connectionId);
        return answer;
      },
      isOpen: async () => answer === 'delivered',
      close: async () => 'closed' as const,
    },
    clock: { now: () => now },
    log: { warn: () => undefined },
  };
}

const connection = (connectionId: string, draining: boolean): Connection => ({ userId: 'bob', connectionId, connectedAt: now, draining });

describe('a push answered 410', () => {
  it('forgets a connection that has been open a while: it is stale', async () => {
    const push = deps('gone');
    const report = await pushFrames(push, [connection('old', false)], ['{}']);
    expect(report).toMatchObject({ forgotten: 1, notOpenYet: 0 });
    expect(push.removed).toEqual(['old']);
  });

  it('leaves a connection still draining alone when what it missed is not stored for it: API Gateway answers 410 until $connect has returned', async () => {
    const push = deps('gone');
    const report = await pushFrames(push, [connection('new', true)], ['{}']);
    expect(report).toMatchObject({ forgotten: 0, notOpenYet: 1 });
    expect(push.removed).toEqual([]);
  });

  it('forgets a draining connection that missed a message stored for it: nothing later may reach it first', async () => {
    const push = deps('gone');
    // Stored for bob, but his drain has finished: the message is not left to it, and the post fails.
    push.connections.leaveToDrain = async () => 'finished';
    const report = await pushFrames(push, [connection('new', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ forgotten: 1, notOpenYet: 0 });
    expect(push.removed).toEqual(['new']);
  });

  it('posts nothing to a draining connection removed since the push looked it up: it was cut off, its socket perhaps still opening', async () => {
    const push = deps('delivered');
    push.connections.leaveToDrain = async () => 'gone';
    const report = await pushFrames(push, [connection('cut', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ forgotten: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
  });

  it('cuts off, without posting, a connection whose drain lapsed while the push looked, when the message is stored for it', async () => {
    const push = deps('delivered');
    push.connections.leaveToDrain = async () => 'lapsed';
    const report = await pushFrames(push, [connection('stalled', true)], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ closed: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
  });

  it('cuts off, without posting, a connection whose drain lapsed, when the message is stored for it: it never had its queue', async () => {
    const push = deps('delivered');
    const lapsed: Connection = { userId: 'bob', connectionId: 'stuck', connectedAt: now, drainLapsed: true };
    const report = await pushFrames(push, [lapsed], ['{}'], { stored: { messageId: 'm1', recipients: ['bob'] } });
    expect(report).toMatchObject({ closed: 1, delivered: 0 });
    expect(push.posted).toEqual([]);
    expect(push.removed).toEqual(['stuck']);
  });

  it('delivers to both when API Gateway takes the post', async () => {
    const push = deps('delivered');
    expect(await pushFrames(push, [connection('old', false), connection('new', true)], ['{}'])).toMatchObject({ delivered: 2 });
    expect(push.posted.sort()).toEqual(['new', 'old']);
  });
});
