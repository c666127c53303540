/**
 * Who is online: each user's open WebSockets, so that messages can be pushed to every device, and when
 * the user was last seen, for session expiry.
 */
import type { Clock } from '../clock';
import { ForbiddenError } from '../errors';
import type { ServerFrame } from '../protocol';

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

/** Who sends a message: a caller on a connection, or the app's backend on a user's behalf, on none of theirs. */
/**
 * Who sends: a user on a connection, or the app's backend on a user's behalf (`POST /v1/messages`),
 * whose messages count against no sender's cap (SPEC §6).
 */
export type Sender = Pick<Caller, 'userId'> & { connectionId?: string; byBackend?: true };

/** A sender on a connection, for what only a connection can do (a chatroom's members are connections). */
export function onConnection(sender: Sender): Caller {
  if (sender.connectionId === undefined) throw new ForbiddenError('chatroom messages are sent on a connection that joined the room');
  return { userId: sender.userId, connectionId: sender.connectionId };
}

export interface Connection {
  userId: string;
  connectionId: string;
  deviceId?: string;
  connectedAt: Date;
  /**
   * The connection's drain is still delivering its queue. A push of a stored message would overtake
   * older messages the drain has yet to send, so it is left to the drain instead (leaveToDrain), and
   * the drain does not finish until it has delivered every message left to it (lib/delivery/ordering.ts).
   */
  draining?: boolean;
  /**
   * The connection's drain never finished and its window has passed: it died, or its event never came.
   * The connection has not had its whole queue, so a stored message may not simply be pushed to it.
   */
  drainLapsed?: boolean;
  /**
   * The connection's drain has finished, having delivered every queued message up to this id: an
   * `ack` with `upTo` on this connection may acknowledge up to it (lib/delivery/ordering.ts).
   */
  drainedThrough?: string;
}

/** A user's open connections, when they were last connected if they are not now, and what their latest connection discarded. */
export interface Presence {
  userId: string;
  connections: Connection[];
  lastSeenAt?: Date;
  discard?: Discard;
  /** Messages up to this id are acknowledged (`ack` with `upTo`): left to expire, never delivered again. */
  ackedUpTo?: string;
}

/** Messages accepted before `beforeId` go unseen: the client started clean, or its session expired. */
export interface Discard {
  beforeId: string;
  reason: 'cleanStart' | 'expired';
}

/** What recording a connection did: the user's presence just before, and the connections it replaced, now forgotten. */
export interface Admission {
  before: Presence | undefined;
  /**
   * The user's oldest connections, past `maxConnections` or past what the user's record can hold
   * whatever the ids: forgotten already, to be told `closing` (reason `replaced`) and closed.
   */
  replaced: Connection[];
}

/** Told to a connection a newer one of the same user replaced (SPEC §4, §6): its client does not reconnect. */
export const replacedFrame = JSON.stringify({ type: 'closing', reason: 'replaced' } satisfies ServerFrame);

export interface ConnectionStore {
  /**
   * Records the connection, and the discard it starts with (or none), replacing the user's oldest
   * connections past `maxConnections` (SPEC §6 `maxConnectionsPerUser`); never refuses the new one.
   */
  add(connection: Connection, expiresAt: Date, now: Date, discard?: Discard, maxConnections?: number): Promise<Admission>;
  /** Records what the user's latest connection discards, for every later drain and sync to honour. */
  setDiscard(userId: string, discard: Discard): Promise<void>;
  /** Forgets the connection, and notes that the user was last seen now; resolves to whether it had joined a chatroom. */
  remove(userId: string, connectionId: string, now: Date): Promise<{ joinedRooms: boolean }>;
  /** Notes that the connection joins a chatroom, so that its close ends its memberships; false if it is not open. */
  addRoom(userId: string, connectionId: string): Promise<boolean>;
  /** The presence of each user who has one; open connections only. */
  lookup(userIds: readonly string[], now: Date, options?: { consistent?: boolean }): Promise<Map<string, Presence>>;
}

export async function registerConnection(
  store: ConnectionStore,
  clock: Clock,
  connection: Omit<Connection, 'connectedAt'>,
  discard?: (connectedAt: Date) => Discard,
  maxConnections?: number,
): Promise<Admission & { connection: Connection }> {
  const connectedAt = clock.now();
  const record = { ...connection, connectedAt };
  const admission = await store.add(record, connectionExpiry(connectedAt), connectedAt, discard?.(connectedAt), maxConnections);
  return { connection: record, ...admission };
}

export function connectionExpiry(connectedAt: Date): Date {
  return new Date(connectedAt.getTime() + maxConnectionSeconds * 1000);
}

/**
 * The open connections of these users. Read strongly consistent (`consistent`) when looking for the
 * recipients of a message just stored: an eventually consistent read could miss a connection opened a
 * moment ago whose drain has already read the queue, and that connection would get the sender's next
 * message before this one.
 */
export async function connectionsOf(
  store: Pick<ConnectionStore, 'lookup'>,
  userIds: readonly string[],
  now: Date,
  options: { consistent?: boolean } = {},
): Promise<Connection[]> {
  return [...(await store.lookup(userIds, now, options)).values()].flatMap((presence) => presence.connections);
}

/**
 * MQTT session expiry (SPEC §6): with `sessionExpiryHours` set, a user away longer than that has lost
 * their session. A user never seen has no session to lose, so messages to them are kept.
 */
export function sessionExpired(presence: Presence | undefined, now: Date, sessionExpiryHours: number): boolean {
  if (sessionExpiryHours === 0 || !presence || presence.connections.length > 0 || !presence.lastSeenAt) return false;
  return now.getTime() - presence.lastSeenAt.getTime() > sessionExpiryHours * 60 * 60 * 1000;
}
