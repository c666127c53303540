/**
 * Chatrooms (SPEC §2, §4): online only. Membership belongs to a connection, and ends when the
 * connection leaves the room or closes; messages reach the members connected at the time, and are
 * never stored.
 */
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
