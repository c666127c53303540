/**
 * Conversation ids, for history and recent conversations. `#` separates the parts because ids may
 * contain every other punctuation mark the ids allow (`_ . @ : -`), but never `#`.
 */
export type ConversationType = 'private' | 'group';

export interface Conversation {
  type: ConversationType;
  /** The other user of a private conversation, seen from one side; the group of a group one. */
  target: string;
}

/** The same id from either side: the two user ids in order. */
export function privateConversationId(a: string, b: string): string {
  const [first, second] = [a, b].sort();
  return `p#${first}#${second}`;
}

export function groupConversationId(groupId: string): string {
  return `g#${groupId}`;
}

export function conversationId(caller: string, conversation: Conversation): string {
  return conversation.type === 'group' ? groupConversationId(conversation.target) : privateConversationId(caller, conversation.target);
}
