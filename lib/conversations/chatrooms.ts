/**
 * Chatrooms (SPEC §2, §4): joined and left per connection, messages pushed to the members connected
 * at the time and never stored.
 */
import type { Clock } from '../clock';
import { forEachLimited } from '../concurrency';
import { connectionExpiry, type Caller, type ConnectionStore } from '../connecting/connections';
import { ForbiddenError } from '../errors';
import type { Reply, SendFrame } from '../protocol';
import { frameOf } from '../messages';
import type { ConnectionPoster, DeliveryLog } from '../delivery/poster';

export interface RoomMember {
  userId: string;
  connectionId: string;
}

export interface RoomStore {
  join(roomId: string, member: RoomMember, expiresAt: Date): Promise<void>;
  /** True when the connection was in the room. */
  leave(roomId: string, connectionId: string): Promise<boolean>;
  isMember(roomId: string, connectionId: string, now: Date): Promise<boolean>;
  members(roomId: string, now: Date): Promise<RoomMember[]>;
  /** The rooms a connection is in, as an index knows them (eventually consistent: a join just made may be missing). */
  roomsOf(connectionId: string): Promise<string[]>;
}

export interface RoomDeps {
  rooms: RoomStore;
  connections: ConnectionStore;
  poster: ConnectionPoster;
  clock: Clock;
  log: DeliveryLog;
  newId: (acceptedAt: Date) => string;
}

export async function joinRoom(deps: Pick<RoomDeps, 'rooms' | 'connections' | 'clock'>, caller: Caller, roomId: string): Promise<Reply> {
  // Noted on the connection first, so that its close always knows to end its memberships.
  if (!(await deps.connections.addRoom(caller.userId, caller.connectionId))) {
    throw new ForbiddenError('this connection is not open');
  }
  // A membership can outlive no connection: API Gateway closes every one within two hours.
  await deps.rooms.join(roomId, caller, connectionExpiry(deps.clock.now()));
  return { type: 'joined', room: roomId };
}

export async function leaveRoom(deps: Pick<RoomDeps, 'rooms'>, caller: Caller, roomId: string): Promise<Reply> {
  await deps.rooms.leave(roomId, caller.connectionId);
  return { type: 'left', room: roomId };
}

/**
 * Ends every membership of a connection that closed. The rooms come from an index, which may not yet
 * show a join made a moment before the close: such a membership lapses with the connection's two
 * hours, and the first message to the room after the close (410) ends it.
 */
export async function leaveRooms(deps: Pick<RoomDeps, 'rooms'>, connectionId: string): Promise<void> {
  const roomIds = await deps.rooms.roomsOf(connectionId);
  await Promise.all(roomIds.map((roomId) => deps.rooms.leave(roomId, connectionId)));
}

/**
 * Posts to a room's members in flight at once. Unbounded, a room of thousands would hold thousands of
 * HTTPS requests and their buffers in one invocation, and burst into the account's API Gateway
 * throttle (429s) that every other route's posts share.
 */
export const roomPostConcurrency = 32;

/** Always qos 0: pushed to the room's connected members (the sending connection aside), never stored. */
export async function sendToRoom(
  deps: Pick<RoomDeps, 'rooms' | 'poster' | 'clock' | 'log' | 'newId'>,
  caller: Caller,
  frame: SendFrame,
  bodyJson: string,
): Promise<Reply> {
  const roomId = frame.target;
  const now = deps.clock.now();
  if (!(await deps.rooms.isMember(roomId, caller.connectionId, now))) {
    throw new ForbiddenError(`join room '${roomId}' on this connection before sending to it`);
  }
  const id = deps.newId(now);
  const message = { id, type: 'chatroom' as const, from: caller.userId, to: roomId, bodyJson, sentAt: now, expiresAt: now, qos: 0 as const };
  const frameText = frameOf(message);
  const members = (await deps.rooms.members(roomId, now)).filter((member) => member.connectionId !== caller.connectionId);
  await forEachLimited(members, roomPostConcurrency, async (member) => {
    try {
      if ((await deps.poster.post(member.connectionId, frameText ?? '')) === 'gone') await deps.rooms.leave(roomId, member.connectionId);
    } catch (error) {
      deps.log.warn('chatroom push failed', { roomId, connectionId: member.connectionId, error });
    }
  });
  return { type: 'sent', clientMsgId: frame.clientMsgId, id, status: 'accepted' };
}
