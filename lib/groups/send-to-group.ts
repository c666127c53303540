/**
 * A message to a group (SPEC §4, §5): members only. Stored for every other member with the group's
 * duration (or each member's own, when enabled), kept in the group's history, pushed to the members
 * online and to the sender's other devices.
 */
import type { Sender } from '../connecting/connections';
import { groupConversationId } from '../conversations/conversations';
import { ForbiddenError } from '../errors';
import { fanOut, type FanOutDeps, type FanOutQueue } from '../sending/fan-out';
import type { GroupStore } from './groups';
import type { HistoryStore } from '../conversations/history';
import type { Reply, SendFrame } from '../protocol';
import { historyExpiry } from '../retention/expiry';
import { claimMessageId, fingerprintOf, type SendReceipts } from '../sending/send-receipts';
import { frameOf, toWireMessage, type MessageDraft } from '../messages';
import { pushToUsers } from '../delivery/ordering';

export interface GroupSendDeps extends FanOutDeps {
  receipts: SendReceipts;
  groups: Pick<GroupStore, 'isMember' | 'members' | 'recordLastMessage'>;
  /** Written only while the app's `historyEnabled` is on. */
  history: Pick<HistoryStore, 'put'>;
  jobs: FanOutQueue;
  newId: (acceptedAt: Date) => string;
}

export async function sendToGroup(deps: GroupSendDeps, caller: Sender, frame: SendFrame, bodyJson: string): Promise<Reply> {
  const groupId = frame.target;
  if (!(await deps.groups.isMember(groupId, caller.userId))) {
    throw new ForbiddenError(`only members of group '${groupId}' may send to it`);
  }
  const now = deps.clock.now();
  const app = await deps.settings.appSettings();
  const base = {
    type: 'group' as const,
    from: caller.userId,
    to: groupId,
    bodyJson,
    ...(frame.ttlSeconds !== undefined && { ttlSeconds: frame.ttlSeconds }),
    ...(caller.byBackend && { byBackend: true as const }),
  };

  if ((frame.qos ?? 1) === 0) {
    const copy = { ...base, id: deps.newId(now), sentAt: now, expiresAt: now, qos: 0 as const };
    const members = (await deps.groups.members(groupId)).filter((member) => member !== caller.userId);
    await pushToUsers(deps, [...members, caller.userId], [frameOf(copy)], { except: caller.connectionId });
    return { type: 'sent', clientMsgId: frame.clientMsgId, id: copy.id, status: 'accepted' };
  }

  // Claimed before any copy is written: every copy, whoever writes it, carries this one id (see send-receipts).
  const { id, sentAt, resend } = await claimMessageId(
    deps.receipts,
    { senderId: caller.userId, clientMsgId: frame.clientMsgId, fingerprint: fingerprintOf('group', groupId, bodyJson) },
    { id: deps.newId(now), sentAt: now },
  );
  const draft: MessageDraft = { ...base, id, sentAt };
  const keptUntil = historyExpiry(sentAt, 'group', app);
  const record = { ...draft, expiresAt: keptUntil, qos: 1 as const };
  if (app.historyEnabled) await deps.history.put(groupConversationId(groupId), record);
  const recipients = (await deps.groups.members(groupId)).filter((member) => member !== caller.userId);
  await fanOut(deps, draft, recipients, { except: caller.connectionId });

  // The sender's other devices see it too; they are not sent a copy to keep.
  await pushToUsers(deps, [caller.userId], [frameOf(record)], { except: caller.connectionId });
  if (app.recentConversationsEnabled) {
    try {
      await deps.groups.recordLastMessage(groupId, { message: toWireMessage(record), at: sentAt, expiresAt: keptUntil });
    } catch (error) {
      deps.log.warn('could not update the group’s last message', { groupId, error });
    }
  }
  return { type: 'sent', clientMsgId: frame.clientMsgId, id, status: resend ? 'duplicate' : 'accepted' };
}
