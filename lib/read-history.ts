/** `history` (SPEC §4): a conversation's messages, newest first, for its participants only. */
import type { Clock } from './clock';
import type { Caller } from './connections';
import { conversationId } from './conversations';
import { ForbiddenError } from './errors';
import type { GroupStore } from './groups';
import type { HistoryStore } from './history';
import { toWireMessage } from './offline-queue';
import { limits, type HistoryFrame, type Message, type Reply } from './protocol';

export const defaultHistoryLimit = 50;

export async function readHistory(
  deps: { history: HistoryStore | undefined; groups: Pick<GroupStore, 'isMember'>; clock: Clock },
  caller: Caller,
  frame: HistoryFrame,
): Promise<Reply> {
  if (!deps.history) throw new ForbiddenError('this deployment keeps no history');
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
