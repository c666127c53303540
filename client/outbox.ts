/**
 * Where `send` keeps a message until the server answers `sent` (SPEC §10): in memory by default, or in
 * the browser's localStorage so that a page reload does not lose an unanswered send. The client resends
 * what it finds here, with the same `clientMsgId`, after every reconnect and when it starts.
 */
import type { SendFrame } from '../lib/protocol';

/** A send frame as it goes on the wire, without the `requestId` each attempt gets. */
export type OutgoingSend = Omit<SendFrame, 'requestId'>;

export interface OutboxStore {
  /** Everything still unanswered, oldest first. */
  load(): OutgoingSend[] | Promise<OutgoingSend[]>;
  put(frame: OutgoingSend): void | Promise<void>;
  delete(clientMsgId: string): void | Promise<void>;
}

export function memoryOutbox(): OutboxStore {
  const frames = new Map<string, OutgoingSend>();
  return {
    load: () => [...frames.values()],
    put: (frame) => void frames.set(frame.clientMsgId, frame),
    delete: (clientMsgId) => void frames.delete(clientMsgId),
  };
}

/** The part of the Web Storage API this store uses. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * An outbox in `localStorage` under `key`; use one key per user when several users share a browser.
 * A full or disabled storage (private mode) degrades to memory rather than failing the send.
 */
export function localStorageOutbox(key = 'pigeonhole.outbox', storage?: KeyValueStorage): OutboxStore {
  const store = storage ?? (globalThis as { localStorage?: KeyValueStorage }).localStorage;
  if (!store) throw new Error('localStorageOutbox: no localStorage here; pass a storage or use memoryOutbox()');
  const read = (): OutgoingSend[] => {
    try {
      const parsed: unknown = JSON.parse(store.getItem(key) ?? '[]');
      return Array.isArray(parsed) ? (parsed as OutgoingSend[]) : [];
    } catch {
      return [];
    }
  };
  const write = (frames: OutgoingSend[]) => {
    try {
      store.setItem(key, JSON.stringify(frames));
    } catch {
      // Quota exceeded or storage disabled: the send still goes out, it just would not survive a reload.
    }
  };
  return {
    load: read,
    put: (frame) => write([...read().filter((f) => f.clientMsgId !== frame.clientMsgId), frame]),
    delete: (clientMsgId) => write(read().filter((f) => f.clientMsgId !== clientMsgId)),
  };
}
