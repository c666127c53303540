/**
 * A message to a group (SPEC §4, §5): members only. Stored for every other member with the group's
 * duration (or each member's own, when enabled), kept in the group's history, pushed to the members
 * online and to the sender's other devices.
 */
import { groupConversationId } from './conversations';
import { packFrames, pushToUsers } from './delivery';
import { ForbiddenError } from './errors';
import { fanOut, type MessageDraft } from './fan-out';
import type { Caller } from './connections';
import { toWireMessage } from './offline-queue';
import type { Reply, SendFrame } from './protocol';
import { historyExpiry } from './retention';
import { receiptFor } from './send-receipts';
import type { SendDeps } from './send-message';

export async function sendToGroup(deps: SendDeps, caller: Caller, frame: SendFrame, bodyJson: string): Promise<Reply> {
  const groupId = frame.target;
  if (!(await deps.groups.isMember(groupId, caller.userId))) {
    throw new ForbiddenError(`only members of group '${groupId}' may send to it`);
  }
  const now = deps.clock.now();
  const app = await deps.settings.appSettings();
  let draft: MessageDraft = {
    id: deps.newId(now),
    type: 'group',
    from: caller.userId,
    to: groupId,
    bodyJson,
    sentAt: now,
    ...(frame.ttlSeconds !== undefined && { ttlSeconds: frame.ttlSeconds }),
  };
  const sent = (status: 'accepted' | 'duplicate', id: string): Reply => ({ type: 'sent', clientMsgId: frame.clientMsgId, id, status });

  if ((frame.qos ?? 1) === 0) {
    const copy = { ...draft, expiresAt: now, qos: 0 as const };
    const members = (await deps.groups.members(groupId)).filter((member) => member !== caller.userId);
    await pushToUsers(deps, [...members, caller.userId], packFrames([JSON.stringify(toWireMessage(copy))]), { except: caller.connectionId });
    return sent('accepted', draft.id);
  }

  // Claimed before the copies are written: until the fan-out completes, a resend finishes this same
  // send (same id, same copies) instead of starting another or being called a duplicate of it.
  const claim = await deps.receipts.claimPending(receiptFor(caller.userId, frame.clientMsgId, draft.id, now), now);
  if (!claim.claimed) {
    if (claim.complete) return sent('duplicate', claim.messageId);
    draft = { ...draft, id: claim.messageId, sentAt: claim.sentAt };
  }

  const keptUntil = historyExpiry(draft.sentAt, 'group', app);
  const record = { ...draft, expiresAt: keptUntil, qos: 1 as const };
  await deps.history?.put(groupConversationId(groupId), record);
  const recipients = (await deps.groups.members(groupId)).filter((member) => member !== caller.userId);
  await fanOut(deps, draft, recipients, { except: caller.connectionId });
  await deps.receipts.complete(caller.userId, frame.clientMsgId);

  // The sender's other devices see it too; they are not sent a copy to keep.
  await pushToUsers(deps, [caller.userId], packFrames([JSON.stringify(toWireMessage(record))]), { except: caller.connectionId });
  if (app.recentConversationsEnabled) {
    try {
      await deps.groups.recordLastMessage(groupId, { message: toWireMessage(record), at: draft.sentAt, expiresAt: keptUntil });
    } catch (error) {
      deps.log.warn('could not update the group’s last message', { groupId, error });
    }
  }
  return sent('accepted', draft.id);
}
