/**
 * Groups (SPEC §2, §7): members only may send to a group or read its history; a message to a group is
 * stored for every other member.
 */
import type { Message } from '../protocol';

export interface Group {
  groupId: string;
  createdAt: Date;
  updatedAt: Date;
  memberCount: number;
}

/** A conversation's last message, and until when it is kept: what recent conversations show. */
export interface LastMessage {
  message: Message;
  at: Date;
  expiresAt: Date;
}

export interface GroupStore {
  get(groupId: string): Promise<Group | undefined>;
  /** Every member, in id order. */
  members(groupId: string): Promise<string[]>;
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** Makes the group's members exactly these, creating the group if need be. */
  setMembers(groupId: string, members: readonly string[], now: Date): Promise<Group>;
  /** Adds and removes members of a group that exists; undefined when it does not. */
  changeMembers(groupId: string, add: readonly string[], remove: readonly string[], now: Date): Promise<Group | undefined>;
  /** True when there was a group to delete. */
  delete(groupId: string): Promise<boolean>;
  /** The groups a user is a member of. */
  groupsOf(userId: string): Promise<string[]>;
  recordLastMessage(groupId: string, last: LastMessage): Promise<void>;
  lastMessages(groupIds: readonly string[]): Promise<Map<string, LastMessage>>;
}

/** One page of every group, for admins; `after` is the last group id of the page before. */
export interface GroupLister {
  list(page: { after?: string; limit: number }): Promise<{ groups: Array<Pick<Group, 'groupId' | 'memberCount'>>; last?: string }>;
}

/** Groups up to this size are changed in one request; a bigger one is refused with a clear answer. */
export const maxGroupMembers = 10_000;
