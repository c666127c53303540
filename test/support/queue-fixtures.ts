/** A queue in memory, messages and policies, for the unit tests of what reads a user's queue. */
import type { OfflineQueue } from '../../lib/delivery/offline-queue';
import type { QueuedMessage } from '../../lib/messages';
import type { QueuePolicy } from '../../lib/retention/queue-plan';
import { defaultAppSettings, type AppSettings } from '../../lib/retention/settings';

export const now = new Date('2030-01-15T10:00:00Z');
export const clock = { now: () => now };
export const policy = (app: Partial<AppSettings> = {}, extra: Partial<QueuePolicy> = {}): QueuePolicy => ({
  app: { ...defaultAppSettings, ...app },
  user: undefined,
  ...extra,
});

export function memoryQueue(messages: QueuedMessage[], pageSize = 2): OfflineQueue & { removed: string[] } {
  const removed: string[] = [];
  return {
    removed,
    put: async () => undefined,
    get: async (_userId, id) => messages.find((m) => m.id === id),
    putMany: async () => undefined,
    remove: async () => false,
    removeMany: async (_userId, ids) => void removed.push(...ids),
    removeGroupMessages: async () => 0,
    async *pages(_userId, start, after) {
      const span = messages.filter((m) => (start === undefined || m.id >= start) && (after === undefined || m.id > after));
      for (let i = 0; i < span.length; i += pageSize) yield span.slice(i, i + pageSize);
    },
  };
}

let sequence = 0;
export function message(body: unknown, options: Partial<QueuedMessage> = {}): QueuedMessage {
  sequence += 1;
  return {
    id: `01J${String(sequence).padStart(23, '0')}`,
    type: 'private',
    from: 'a',
    to: 'b',
    bodyJson: JSON.stringify(body),
    sentAt: new Date('2030-01-15T09:00:00Z'),
    expiresAt: new Date('2030-01-20T00:00:00Z'),
    qos: 1,
    ...options,
  };
}
