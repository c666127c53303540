/** `$connect`'s work (lib/connecting/open-connection.ts): a connection whose drain cannot start is refused and forgotten. */
import { describe, expect, it } from 'vitest';
import type { ConnectionStore } from '../../lib/connecting/connections';
import { openConnection, type DrainStarter } from '../../lib/connecting/open-connection';
import type { DrainRequest } from '../../lib/delivery/ordering';
import { SettingsReader } from '../../lib/retention/settings-reader';

const now = new Date('2030-01-15T10:00:00Z');
const clock = { now: () => now };
const caller = { userId: 'bob', connectionId: 'c1' };

function setup(drains: DrainStarter) {
  const events: string[] = [];
  const errors: string[] = [];
  const counted: string[] = [];
  const connections = {
    add: async (connection: { connectionId: string }) => {
      events.push(`add ${connection.connectionId}`);
      return { before: undefined, replaced: [] };
    },
    setDiscard: async () => undefined,
    remove: async (_userId: string, connectionId: string) => {
      events.push(`remove ${connectionId}`);
      return { joinedRooms: false };
    },
  } as unknown as ConnectionStore;
  const settings = new SettingsReader({ getApp: async () => undefined } as never, clock, { warn: () => undefined });
  return {
    events,
    errors,
    counted,
    deps: {
      connections,
      drains,
      settings,
      clock,
      poster: { post: async () => 'delivered' as const, close: async () => 'closed' as const },
      log: { warn: () => undefined, error: (message: string) => void errors.push(message) },
      stats: { add: (name: string) => void counted.push(name) },
    },
  };
}

describe('openConnection', () => {
  it('records the connection and starts its drain, with the discard a clean start asks for', async () => {
    const started: DrainRequest[] = [];
    const { deps, events, counted } = setup({ start: async (request) => void started.push(request) });
    expect(await openConnection(deps, caller, { cleanStart: 'true' })).toBe('opened');
    expect(events).toEqual(['add c1']);
    expect(started).toEqual([{ ...caller, discard: { beforeId: expect.any(String), reason: 'cleanStart' } }]);
    expect(counted).toEqual(['connectionsOpened']);
  });

  it('refuses, and forgets, a connection whose drain could not be started: it would never get its queue', async () => {
    const { deps, events, errors, counted } = setup({
      start: async () => {
        throw new Error('Lambda throttled the invoke');
      },
    });
    expect(await openConnection(deps, caller, {})).toBe('refused');
    expect(events).toEqual(['add c1', 'remove c1']);
    expect(errors).toEqual(['could not start the drain; refusing the connection']);
    expect(counted).toEqual([]);
  });
});
