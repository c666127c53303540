/**
 * Roaming history (SPEC §2, §4): every qos-1 private and group message, per conversation, for
 * `historyDays` or `groupHistoryDays`, readable by its participants from any device, whether or not it
 * was delivered or acknowledged.
 */
import type { Clock } from '../clock';
import type { Caller } from '../connecting/connections';
import { conversationId } from './conversations';
import { ForbiddenError } from '../errors';
import type { GroupStore } from '../groups/groups';
import { limits, type HistoryFrame, type Message, type Reply } from '../protocol';
import { toWireMessage, type QueuedMessage } from '../messages';
import type { SettingsReader } from '../retention/settings-reader';

export interface HistoryPage {
  /** Newest first. */
  messages: QueuedMessage[];
  /** Whether older messages remain. */
  more: boolean;
}

export interface HistoryStore {
  put(conversationId: string, message: QueuedMessage): Promise<void>;
  /** Up to `limit` unexpired messages older than `before` (or the newest), newest first. */
  page(conversationId: string, options: { before?: string; limit: number; now: Date }): Promise<HistoryPage>;
  removeOne(conversationId: string, id: string): Promise<void>;
  /** Removes every message the user sent in the conversation; resolves to their ids. */
  removeFrom(conversationId: string, fromUserId: string): Promise<string[]>;
}

/** `history` (SPEC §4): a conversation's messages, newest first, for its participants only. */
export const defaultHistoryLimit = 50;

export async function readHistory(
  deps: { history: HistoryStore; groups: Pick<GroupStore, 'isMember'>; settings: Pick<SettingsReader, 'appSettings'>; clock: Clock },
  caller: Caller,
  frame: HistoryFrame,
): Promise<Reply> {
  if (!(await deps.settings.appSettings()).historyEnabled) throw new ForbiddenError('history is switched off (the app setting historyEnabled)');
  // A private conversation is named by the caller and the other user, so the caller is always in it.
  if (frame.type === 'group' && !(await deps.groups.isMember(frame.target, caller.userId))) {
    throw new ForbiddenError(`only members of group '${frame.target}' may read its history`);
  }
  const page = await deps.history.page(conversationId(caller.userId, frame), {
    ...(frame.before && { before: frame.before }),
    limit: frame.limit ?? defaultHistoryLimit,
    now: deps.clock.now(),
  });
  const { fitting, cut } = fitInReply(page.messages.map(toWireMessage));
  const last = fitting.at(-1);
  return { type: 'history', messages: fitting, next: (page.more || cut) && last ? last.id : null };
}

/** As many messages as keep the reply under API Gateway's message size; the rest come with `next`. */
function fitInReply(messages: Message[]): { fitting: Message[]; cut: boolean } {
  let bytes = 100;
  const fitting: Message[] = [];
  for (const message of messages) {
    bytes += Buffer.byteLength(JSON.stringify(message)) + 1;
    // One message always goes, however big: alone it is at most 30 KB of body.
    if (fitting.length > 0 && bytes > limits.replyMaxBytes) return { fitting, cut: true };
    fitting.push(message);
  }
  return { fitting, cut: false };
}
