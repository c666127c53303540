/**
 * Roaming history (SPEC §2, §4): every qos-1 private and group message, per conversation, for
 * `historyDays` or `groupHistoryDays`, readable by its participants from any device, whether or not it
 * was delivered or acknowledged.
 */
import type { QueuedMessage } from './offline-queue';

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
