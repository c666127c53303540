/**
 * Recent conversations (SPEC §2, §4): per user, the last 100 conversations with their last message,
 * newest first. Private conversations are kept per user; a group's comes from the group's own last
 * message, so a group message costs one write here rather than one per member.
 */
import type { Clock } from '../clock';
import type { ConversationType } from './conversations';
import { ForbiddenError } from '../errors';
import type { GroupStore } from '../groups/groups';
import { limits, type Message, type Reply } from '../protocol';
import type { SettingsReader } from '../retention/settings-reader';

export const maxRecentConversations = 100;

export interface RecentEntry {
  type: ConversationType;
  target: string;
  lastMessage: Message;
  updatedAt: Date;
  expiresAt: Date;
}

export interface RecentConversationStore {
  record(userId: string, entry: RecentEntry): Promise<void>;
  /** The user's private conversations, unexpired at `now`, in no particular order. */
  list(userId: string, now: Date): Promise<RecentEntry[]>;
  /** Removes the user's entries for these private conversations (by the other user's id). */
  forget(userId: string, targets: readonly string[]): Promise<void>;
}

export interface RecentDeps {
  recent: RecentConversationStore;
  groups: GroupStore;
  settings: SettingsReader;
  clock: Clock;
  log: { warn(message: string, details: Record<string, unknown>): void };
}

/**
 * The user's last conversations, newest first: their private ones, and the groups they are in that have
 * an unexpired last message. Private entries past the hundredth are removed as they are found.
 */
export async function listRecentConversations(deps: RecentDeps, userId: string, limit = maxRecentConversations): Promise<Reply> {
  if (!(await deps.settings.appSettings()).recentConversationsEnabled) {
    throw new ForbiddenError('recent conversations are turned off in this app (recentConversationsEnabled)');
  }
  const now = deps.clock.now();
  const [privateEntries, groupIds] = await Promise.all([deps.recent.list(userId, now), deps.groups.groupsOf(userId)]);
  const lastMessages = await deps.groups.lastMessages(groupIds);
  const groupEntries: RecentEntry[] = [...lastMessages]
    .filter(([, last]) => last.expiresAt > now)
    .map(([groupId, last]) => ({ type: 'group', target: groupId, lastMessage: last.message, updatedAt: last.at, expiresAt: last.expiresAt }));

  const newestFirst = [...privateEntries, ...groupEntries].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
  const beyond = newestFirst.slice(maxRecentConversations).filter((entry) => entry.type === 'private');
  if (beyond.length > 0) {
    await deps.recent.forget(userId, beyond.map((entry) => entry.target)).catch((error: unknown) => {
      deps.log.warn('could not prune recent conversations', { userId, error });
    });
  }

  const conversations = [];
  let bytes = 100;
  for (const entry of newestFirst.slice(0, Math.min(limit, maxRecentConversations))) {
    const conversation = { type: entry.type, target: entry.target, lastMessage: entry.lastMessage, updatedAt: entry.updatedAt.toISOString() };
    bytes += Buffer.byteLength(JSON.stringify(conversation)) + 1;
    // The newest stay when the whole list would not fit in one reply.
    if (conversations.length > 0 && bytes > limits.replyMaxBytes) break;
    conversations.push(conversation);
  }
  return { type: 'recent', conversations };
}
