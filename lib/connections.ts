/**
 * Open connections: one record per WebSocket, so that messages can be pushed to every device a user
 * has open.
 */
import type { Clock } from './clock';

/**
 * API Gateway closes every WebSocket after two hours, and `$disconnect` is best-effort, so a record
 * expires then whether or not anyone removes it.
 */
export const maxConnectionSeconds = 2 * 60 * 60;

export interface Connection {
  userId: string;
  connectionId: string;
  deviceId?: string;
  connectedAt: Date;
}

export interface ConnectionStore {
  put(connection: Connection, expiresAt: Date): Promise<void>;
  delete(userId: string, connectionId: string): Promise<void>;
  /** The user's connections whose records have not expired at `now`. */
  listByUser(userId: string, now: Date): Promise<Connection[]>;
}

export async function registerConnection(
  store: ConnectionStore,
  clock: Clock,
  connection: Omit<Connection, 'connectedAt'> & { connectedAt?: Date },
): Promise<Connection> {
  const connectedAt = connection.connectedAt ?? clock.now();
  const record = { ...connection, connectedAt };
  await store.put(record, new Date(connectedAt.getTime() + maxConnectionSeconds * 1000));
  return record;
}

export async function forgetConnection(store: ConnectionStore, userId: string, connectionId: string): Promise<void> {
  await store.delete(userId, connectionId);
}
