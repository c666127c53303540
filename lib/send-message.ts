/**
 * `send` (SPEC §4, §5): checks the frame, then hands it to the private, group or chatroom path. A
 * qos-1 message is stored for every recipient before the sender hears `accepted`, then pushed to the
 * recipients' open connections and to the sender's other devices.
 */
import type { Clock } from './clock';
import { connectionsOf, sessionExpired, type Caller, type Connection } from './connections';
import { privateConversationId } from './conversations';
import { packFrames, pushFrames, pushToUsers, type PushDeps } from './delivery';
import { TooLargeError } from './errors';
import type { FanOutDeps, FanOutQueue } from './fan-out';
import type { GroupStore } from './groups';
import type { HistoryStore } from './history';
import { toWireMessage, type OfflineQueue, type QueuedMessage } from './offline-queue';
import { limits, type Reply, type SendFrame } from './protocol';
import type { RecentConversationStore } from './recent-conversations';
import { durationInForce, historyExpiry, messageExpiry } from './retention';
import type { RoomStore } from './rooms';
import { receiptFor, type SendReceipts } from './send-receipts';
import { sendToRoom } from './chatrooms';
import { sendToGroup } from './send-group';
import type { SettingsReader } from './settings-reader';

export interface SendDeps extends PushDeps, FanOutDeps {
  queue: OfflineQueue;
  receipts: SendReceipts;
  settings: SettingsReader;
  clock: Clock;
  newId: (acceptedAt: Date) => string;
  /** Undefined when the deployment keeps no history. */
  history: HistoryStore | undefined;
  recent: RecentConversationStore;
  groups: GroupStore;
  rooms: RoomStore;
  jobs: FanOutQueue;
}

export async function sendMessage(deps: SendDeps, caller: Caller, frame: SendFrame): Promise<Reply> {
  const bodyJson = JSON.stringify(frame.body);
  if (Buffer.byteLength(bodyJson) > limits.bodyMaxBytes) {
    throw new TooLargeError(`body is larger than ${limits.bodyMaxBytes / 1024} KB once serialized`);
  }
  switch (frame.type) {
    case 'private':
      return sendPrivate(deps, caller, frame, bodyJson);
    case 'group':
      return sendToGroup(deps, caller, frame, bodyJson);
    case 'chatroom':
      return sendToRoom(deps, caller, frame, bodyJson);
  }
}

async function sendPrivate(deps: SendDeps, caller: Caller, frame: SendFrame, bodyJson: string): Promise<Reply> {
  const sentAt = deps.clock.now();
  const { app, user } = await deps.settings.retentionFor(frame.target);
  const message: QueuedMessage = {
    id: deps.newId(sentAt),
    type: 'private',
    from: caller.userId,
    to: frame.target,
    bodyJson,
    sentAt,
    expiresAt: messageExpiry(sentAt, frame.ttlSeconds, durationInForce('private', app, user).days),
    qos: frame.qos ?? 1,
  };

  const except = caller.connectionId;
  if (message.qos === 1 && !(await recipientSessionExpired(deps, message.to, sentAt, app.sessionExpiryHours))) {
    const delivered = await deliverPrivate(deps, message, frame.clientMsgId, historyExpiry(sentAt, 'private', app), except);
    if (delivered.duplicateOf) return { type: 'sent', clientMsgId: frame.clientMsgId, id: delivered.duplicateOf, status: 'duplicate' };
  } else {
    await pushToUsers(deps, [message.to, caller.userId], packFrames([JSON.stringify(toWireMessage(message))]), { except });
  }
  if (message.qos === 1 && app.recentConversationsEnabled) {
    await recordRecent(deps, message, historyExpiry(sentAt, 'private', app));
  }
  return { type: 'sent', clientMsgId: frame.clientMsgId, id: message.id, status: 'accepted' };
}

/**
 * With session expiry on, a recipient away longer than `sessionExpiryHours` has no session: nothing is
 * stored for them until they connect again (SPEC §6), as an MQTT broker drops messages for an expired
 * session. The sender still hears `accepted`: the message was handled as the app's settings say.
 */
async function recipientSessionExpired(deps: SendDeps, userId: string, now: Date, hours: number): Promise<boolean> {
  if (hours === 0) return false;
  return sessionExpired((await deps.connections.lookup([userId], now)).get(userId), now, hours);
}

/**
 * Stores a qos-1 private message, claims its send receipt, and pushes it to the recipient's open
 * connections and the sender's other devices, so that every connection gets each sender's messages in
 * order, whatever fails:
 *
 * 1. The recipient's copy and the history copy are written. The message goes before the receipt so
 *    that a receipt always stands for a stored message (a resend must never be called a duplicate of
 *    something never stored).
 * 2. The connections are looked up: after the write, so that a recipient connecting meanwhile gets the
 *    message from its drain or from the push; before the claim, so that a failed lookup fails the send
 *    rather than leave open connections without a message that the sender's next one would reach.
 *    A failure up to here takes the copies back: not accepted, nothing kept.
 * 3. The receipt is claimed. If that fails, whether it was written is unknown, and a resend may be
 *    answered `duplicate` with this id: the message stays, and is pushed before the error goes back.
 *    If it is a resend's, the first try may still be running, its push not yet made: the original is
 *    pushed from here too, before the sender hears `duplicate` and sends its next message.
 */
async function deliverPrivate(
  deps: SendDeps,
  message: QueuedMessage,
  clientMsgId: string,
  keptInHistoryUntil: Date,
  except: string,
): Promise<{ duplicateOf?: string }> {
  const conversation = privateConversationId(message.from, message.to);
  let connections: Connection[];
  try {
    const writes = await Promise.allSettled([
      deps.queue.put(message.to, message),
      deps.history?.put(conversation, { ...message, expiresAt: keptInHistoryUntil }),
    ]);
    const failed = writes.find((write) => write.status === 'rejected');
    if (failed) throw failed.reason;
    connections = await connectionsOf(deps.connections, [message.to, message.from], deps.clock.now(), { consistent: true });
  } catch (error) {
    await withdraw(deps, message, conversation);
    throw error;
  }

  const push = (stored: QueuedMessage) =>
    pushFrames(deps, connections, packFrames([JSON.stringify(toWireMessage(stored))]), {
      except,
      stored: { messageId: stored.id, recipients: [stored.to] },
    });
  let claim;
  try {
    claim = await deps.receipts.claim(receiptFor(message.from, clientMsgId, message.id, message.sentAt), message.sentAt);
  } catch (error) {
    await push(message);
    throw error;
  }
  if (claim.claimed) {
    await push(message);
    return {};
  }
  await withdraw(deps, message, conversation);
  // Gone once acked (delivered); expired ones are never delivered.
  const original = await deps.queue.get(message.to, claim.messageId);
  if (original && original.expiresAt > deps.clock.now()) await push(original);
  return { duplicateOf: claim.messageId };
}

/** Takes back copies that must not be seen; if that fails too, the recipient may see the message twice. */
async function withdraw(deps: SendDeps, message: QueuedMessage, conversation: string): Promise<void> {
  const removals = await Promise.allSettled([
    deps.queue.remove(message.to, message.id),
    deps.history ? deps.history.removeOne(conversation, message.id) : Promise.resolve(),
  ]);
  for (const removal of removals) {
    if (removal.status === 'rejected') {
      deps.log.warn('could not withdraw a message that was not accepted', { messageId: message.id, error: removal.reason });
    }
  }
}

/** Both users' recent conversations now end with this message; a failure here loses no message. */
async function recordRecent(deps: SendDeps, message: QueuedMessage, expiresAt: Date): Promise<void> {
  const lastMessage = toWireMessage({ ...message, expiresAt });
  const entry = (target: string) => ({ type: 'private' as const, target, lastMessage, updatedAt: message.sentAt, expiresAt });
  const writes = await Promise.allSettled([
    deps.recent.record(message.from, entry(message.to)),
    deps.recent.record(message.to, entry(message.from)),
  ]);
  for (const write of writes) {
    if (write.status === 'rejected') deps.log.warn('could not update recent conversations', { messageId: message.id, error: write.reason });
  }
}
