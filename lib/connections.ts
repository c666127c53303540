/**
 * Open connections: each user's open WebSockets, so that messages can be pushed to every device a
 * user has open.
 */
import type { Clock } from './clock';

/**
 * API Gateway closes every WebSocket after two hours, and `$disconnect` is best-effort, so a record
 * expires then whether or not anyone removes it.
 */
export const maxConnectionSeconds = 2 * 60 * 60;

/** Who sent a frame: the user the token named, on the connection the frame came in on. */
export type Caller = {
  userId: string;
  connectionId: string;
};

export interface Connection {
  userId: string;
  connectionId: string;
  deviceId?: string;
  connectedAt: Date;
}

export interface ConnectionStore {
  add(connection: Connection, expiresAt: Date): Promise<void>;
  remove(userId: string, connectionId: string): Promise<void>;
  /** The open (unexpired at `now`) connections of each user; a user with none is absent from the map. */
  listByUsers(userIds: readonly string[], now: Date): Promise<Map<string, Connection[]>>;
}

export async function registerConnection(
  store: ConnectionStore,
  clock: Clock,
  connection: Omit<Connection, 'connectedAt'> & { connectedAt?: Date },
): Promise<Connection> {
  const connectedAt = connection.connectedAt ?? clock.now();
  const record = { ...connection, connectedAt };
  await store.add(record, connectionExpiry(connectedAt));
  return record;
}

export function connectionExpiry(connectedAt: Date): Date {
  return new Date(connectedAt.getTime() + maxConnectionSeconds * 1000);
}

export async function connectionsOf(store: ConnectionStore, userId: string, now: Date): Promise<Connection[]> {
  return (await store.listByUsers([userId], now)).get(userId) ?? [];
}
