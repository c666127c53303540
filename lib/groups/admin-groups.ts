/** Groups through the admin API (SPEC §7): create, list, change members, delete, and delete a member's messages server-side. */
import * as z from 'zod/mini';
import type { Clock } from '../clock';
import { groupConversationId } from '../conversations/conversations';
import { BadRequestError, NotFoundError } from '../errors';
import { groupPageSize, type GroupListResponse } from '../admin/admin-api';
import { maxGroupMembers, type Group, type GroupLister, type GroupStore } from './groups';
import type { HistoryStore } from '../conversations/history';
import type { FanOutJob, FanOutQueue } from '../sending/fan-out';
import type { OfflineQueue } from '../delivery/offline-queue';
import { describeIssues, idSchema } from '../protocol';

const memberList = (what: string) =>
  z
    .array(idSchema, { error: `${what} must be an array of user ids` })
    .check(z.maxLength(maxGroupMembers, { error: `at most ${maxGroupMembers} members at once` }));

export const groupBodySchema = z.object({ members: memberList('members') });
export const membersChangeSchema = z.object({ add: z.optional(memberList('add')), remove: z.optional(memberList('remove')) });

export interface GroupResponse {
  groupId: string;
  members: string[];
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

export function parseBody<T>(schema: z.ZodMiniType<T>, body: unknown): T {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw new BadRequestError(describeIssues(parsed.error));
  return parsed.data;
}

export function checkGroupId(id: string | undefined): string {
  const parsed = idSchema.safeParse(id);
  if (!parsed.success) throw new BadRequestError(`'${id ?? ''}' is not a group id: 1–128 characters of letters, digits and _ . @ : -`);
  return parsed.data;
}

async function describe(groups: GroupStore, group: Group): Promise<GroupResponse> {
  const members = await groups.members(group.groupId);
  return {
    groupId: group.groupId,
    members,
    memberCount: members.length,
    createdAt: group.createdAt.toISOString(),
    updatedAt: group.updatedAt.toISOString(),
  };
}

/** Creates the group, or makes an existing one's members exactly these. */
export async function putGroup(deps: { groups: GroupStore; clock: Clock }, groupId: string, body: unknown): Promise<GroupResponse> {
  const { members } = parseBody(groupBodySchema, body);
  return describe(deps.groups, await deps.groups.setMembers(groupId, members, deps.clock.now()));
}

export async function getGroup(groups: GroupStore, groupId: string): Promise<GroupResponse> {
  const group = await groups.get(groupId);
  if (!group) throw new NotFoundError(`there is no group '${groupId}'`);
  return describe(groups, group);
}

export async function changeGroupMembers(deps: { groups: GroupStore; clock: Clock }, groupId: string, body: unknown): Promise<GroupResponse> {
  const { add = [], remove = [] } = parseBody(membersChangeSchema, body);
  if (add.length + remove.length === 0) throw new BadRequestError('name members to add or remove');
  const group = await deps.groups.changeMembers(groupId, add, remove, deps.clock.now());
  if (!group) throw new NotFoundError(`there is no group '${groupId}'`);
  return describe(deps.groups, group);
}

export async function deleteGroup(groups: GroupStore, groupId: string): Promise<{ groupId: string; deleted: true }> {
  if (!(await groups.delete(groupId))) throw new NotFoundError(`there is no group '${groupId}'`);
  return { groupId, deleted: true };
}

/**
 * One page of groups. The cursor is opaque to callers (base64url of the last group id of the page
 * before), so the paging scheme can change without breaking them; a cursor that is not one this API
 * made is refused rather than read.
 */
export async function listGroups(groups: GroupLister, query: { cursor?: string | undefined; limit?: string | undefined }): Promise<GroupListResponse> {
  const after = query.cursor === undefined || query.cursor === '' ? undefined : decodeGroupCursor(query.cursor);
  const limit = query.limit === undefined ? groupPageSize.default : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > groupPageSize.max) {
    throw new BadRequestError(`limit must be a whole number 1 to ${groupPageSize.max}`);
  }
  const page = await groups.list({ ...(after !== undefined && { after }), limit });
  return { groups: page.groups, ...(page.last !== undefined && { next: encodeGroupCursor(page.last) }) };
}

function encodeGroupCursor(lastGroupId: string): string {
  return Buffer.from(JSON.stringify({ after: lastGroupId })).toString('base64url');
}

function decodeGroupCursor(cursor: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    after = undefined;
  }
  const parsed = idSchema.safeParse(after);
  if (!parsed.success) throw new BadRequestError('cursor is not one this API gave: pass the `next` of the page before, or none');
  return parsed.data;
}

/** At most this many members' queues are searched at once. */
const queueSearchConcurrency = 16;
/** Members whose queues the admin request searches itself; the rest go to the fan-out worker, in jobs of `membersPerJob`. */
export const inlineQueueSearches = 100;
const membersPerJob = 500;

/**
 * Removes a member's messages from the group's history and from every member's undelivered queue,
 * as Tencent IM's server-side deletion does: what clients already fetched stays theirs. The first
 * hundred members' queues are searched here; a bigger group's others are handed to the fan-out
 * worker, so no one invocation searches ten thousand queues. `pendingMembers` says how many.
 */
export async function deleteGroupMessages(
  deps: { groups: GroupStore; history: HistoryStore; queue: OfflineQueue; jobs: FanOutQueue },
  groupId: string,
  fromUserId: string,
): Promise<{ groupId: string; from: string; removed: { history: number; queued: number }; pendingMembers: number }> {
  if (!(await deps.groups.get(groupId))) throw new NotFoundError(`there is no group '${groupId}'`);
  // Whether or not history is kept now: what was kept before goes too.
  const fromHistory = await deps.history.removeFrom(groupConversationId(groupId), fromUserId);
  const members = await deps.groups.members(groupId);
  const later: FanOutJob[] = [];
  for (let i = inlineQueueSearches; i < members.length; i += membersPerJob) {
    later.push({ kind: 'deleteGroupMessages', groupId, from: fromUserId, members: members.slice(i, i + membersPerJob) });
  }
  if (later.length > 0) await deps.jobs.enqueue(later);
  const queued = await removeFromQueues(deps.queue, members.slice(0, inlineQueueSearches), groupId, fromUserId);
  return { groupId, from: fromUserId, removed: { history: fromHistory.length, queued }, pendingMembers: members.length - Math.min(members.length, inlineQueueSearches) };
}

/** Removes one sender's messages of a group from these members' queues; resolves to how many. */
export async function removeFromQueues(queue: OfflineQueue, members: readonly string[], groupId: string, fromUserId: string): Promise<number> {
  let removed = 0;
  for (let i = 0; i < members.length; i += queueSearchConcurrency) {
    const counts = await Promise.all(members.slice(i, i + queueSearchConcurrency).map((member) => queue.removeGroupMessages(member, groupId, fromUserId)));
    removed += counts.reduce((sum, count) => sum + count, 0);
  }
  return removed;
}
