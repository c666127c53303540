/**
 * Each user's offline queue: stored messages, in id order, until acknowledged or expired.
 */
import type { QueuedMessage } from '../messages';

export interface OfflineQueue {
  put(recipientId: string, message: QueuedMessage): Promise<void>;
  /** Stores copies for many recipients at once, 25 to a request. */
  putMany(copies: ReadonlyArray<{ recipientId: string; message: QueuedMessage }>): Promise<void>;
  /** One stored message (strongly consistent), expired or not; undefined when it is not there. */
  get(recipientId: string, id: string): Promise<QueuedMessage | undefined>;
  /** Removes one message; true when it was there to remove. */
  remove(recipientId: string, id: string): Promise<boolean>;
  /** Removes many messages at once, saying nothing of which were there. */
  removeMany(recipientId: string, ids: readonly string[]): Promise<void>;
  /** Removes the recipient's queued messages of one group from one sender; resolves to how many. */
  removeGroupMessages(recipientId: string, groupId: string, fromUserId: string): Promise<number>;
  /**
   * The recipient's stored messages in id order, a page at a time, expired ones included; only those
   * from the message `from` on if given, and past `after` (the user's acknowledgement bound) if given.
   * Always strongly consistent: every reader must see a message
   * stored a moment ago (a drain started just after it, a `sync`, an admin or `npm run smoke` looking).
   */
  pages(recipientId: string, from?: string, after?: string): AsyncIterable<QueuedMessage[]>;
}

/**
 * Removes the acked messages from this user's queue only: the ids are looked up under the user's
 * own key, so an id of someone else's message matches nothing and is ignored.
 */
export async function acknowledge(queue: OfflineQueue, userId: string, ids: readonly string[]): Promise<string[]> {
  const unique = [...new Set(ids)];
  const removed = await Promise.all(unique.map((id) => queue.remove(userId, id)));
  return unique.filter((_, i) => removed[i]);
}
