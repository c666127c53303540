/**
 * `send` (SPEC §4, §5): checks the frame, then hands it to the private, group or chatroom path. A
 * qos-1 message is stored for every recipient before the sender hears `accepted`, then pushed to the
 * recipients' open connections and to the sender's other devices.
 */
import type { Clock } from './clock';
import { sessionExpired, type Caller, type Connection } from './connections';
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

  const frames = packFrames([JSON.stringify(toWireMessage(message))]);
  const recipients = [message.to, caller.userId];
  if (message.qos === 1 && !(await recipientSessionExpired(deps, message.to, sentAt, app.sessionExpiryHours))) {
    const stored = await storePrivate(deps, message, frame.clientMsgId, historyExpiry(sentAt, 'private', app), recipients);
    if ('duplicateOf' in stored) return { type: 'sent', clientMsgId: frame.clientMsgId, id: stored.duplicateOf, status: 'duplicate' };
    await pushFrames(deps, stored.connections, frames, {
      except: caller.connectionId,
      stored: { messageId: message.id, recipients: [message.to] },
    });
  } else {
    await pushToUsers(deps, recipients, frames, { except: caller.connectionId });
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
 * Writes the message for its recipient and into the conversation's history, finds the connections to
 * push it to, then claims the send receipt. The message goes first so that a receipt always stands for
 * a stored message: a crash between the two leaves a message without a receipt (a resend stores it
 * twice, under another id) but never a receipt without a message (a resend would be called a duplicate
 * of something never stored).
 *
 * The connections are found after the write, so that a recipient connecting meanwhile gets the message
 * from its drain or from the push, and before the claim, so that a failed lookup fails the send: were it
 * accepted, the recipient's open connections would miss it while the sender's next message reached them.
 */
async function storePrivate(
  deps: SendDeps,
  message: QueuedMessage,
  clientMsgId: string,
  keptInHistoryUntil: Date,
  pushTo: readonly string[],
): Promise<{ duplicateOf: string } | { connections: Connection[] }> {
  const conversation = privateConversationId(message.from, message.to);
  const writes = await Promise.allSettled([
    deps.queue.put(message.to, message),
    deps.history?.put(conversation, { ...message, expiresAt: keptInHistoryUntil }),
  ]);
  let connections: Connection[];
  let claim;
  try {
    const failed = writes.find((write) => write.status === 'rejected');
    if (failed) throw failed.reason;
    // Strongly consistent, as for any stored message (see pushToUsers).
    connections = [...(await deps.connections.lookup(pushTo, deps.clock.now(), { consistent: true })).values()].flatMap(
      (presence) => presence.connections,
    );
    claim = await deps.receipts.claim(receiptFor(message.from, clientMsgId, message.id, message.sentAt), message.sentAt);
  } catch (error) {
    await withdraw(deps, message, conversation);
    throw error;
  }
  if (claim.claimed) return { connections };
  await withdraw(deps, message, conversation);
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
