/**
 * `send` (SPEC §4, §5): checks the frame, then hands it to the private, group or chatroom path. A
 * qos-1 message is stored for every recipient before the sender hears `accepted`, then pushed to the
 * recipients' open connections and to the sender's other devices.
 */
import type { Clock } from '../clock';
import { onConnection, sessionExpired, type Sender } from '../connecting/connections';
import { privateConversationId } from '../conversations/conversations';
import { ForbiddenError, TooLargeError } from '../errors';
import type { FanOutDeps, FanOutQueue } from './fan-out';
import type { GroupStore } from '../groups/groups';
import type { HistoryStore } from '../conversations/history';
import { emitOfflineEvents, offlineEventOf } from '../events/offline-events';
import { type OfflineQueue } from '../delivery/offline-queue';
import { limits, type Reply, type SendFrame } from '../protocol';
import type { RecentConversationStore } from '../conversations/recent-conversations';
import { durationInForce, historyExpiry, messageExpiry } from '../retention/expiry';
import type { RoomStore } from '../conversations/chatrooms';
import { claimMessageId, fingerprintOf, type SendReceipts } from './send-receipts';
import { sendToRoom } from '../conversations/chatrooms';
import { rateRuleOf, type SendRateLimiter } from './send-rate';
import { sendToGroup } from '../groups/send-to-group';
import type { SettingsReader } from '../retention/settings-reader';
import { frameOf, toWireMessage, type QueuedMessage } from '../messages';
import { pushFrames, pushStored, pushToUsers, type PushDeps } from '../delivery/ordering';

export interface SendDeps extends PushDeps, FanOutDeps {
  queue: OfflineQueue;
  receipts: SendReceipts;
  settings: SettingsReader;
  clock: Clock;
  newId: (acceptedAt: Date) => string;
  /** Written only while the app's `historyEnabled` is on. */
  history: HistoryStore;
  recent: RecentConversationStore;
  groups: GroupStore;
  /** Undefined in a function that serves no chatrooms (the backend's `POST /v1/messages`). */
  rooms: RoomStore | undefined;
  jobs: FanOutQueue;
  /** The per-user send rate, across the user's devices (SPEC §6); none for the app's backend. */
  rate?: Pick<SendRateLimiter, 'admit'>;
}

export async function sendMessage(deps: SendDeps, caller: Sender, frame: SendFrame): Promise<Reply> {
  const bodyJson = JSON.stringify(frame.body);
  if (Buffer.byteLength(bodyJson) > limits.bodyMaxBytes) {
    throw new TooLargeError(`body is larger than ${limits.bodyMaxBytes / 1024} KB once serialized`);
  }
  // Before anything is claimed, stored or pushed: a refused send leaves no trace, so a resend after
  // `retryAfterMs` starts afresh. Every try counts, a resend of the same clientMsgId too.
  if (deps.rate) await deps.rate.admit(caller.userId, rateRuleOf(await deps.settings.appSettings()));
  switch (frame.type) {
    case 'private':
      return sendPrivate(deps, caller, frame, bodyJson);
    case 'group':
      return sendToGroup(deps, caller, frame, bodyJson);
    case 'chatroom':
      return sendToRoom({ ...deps, rooms: servingRooms(deps.rooms) }, onConnection(caller), frame, bodyJson);
  }
}

async function sendPrivate(deps: SendDeps, caller: Sender, frame: SendFrame, bodyJson: string): Promise<Reply> {
  const now = deps.clock.now();
  const qos = frame.qos ?? 1;
  const draft = { id: deps.newId(now), sentAt: now };
  // A qos-0 message is never stored, so it has nothing to de-duplicate: each try is its own push.
  const { id, sentAt, resend } =
    qos === 1
      ? await claimMessageId(
          deps.receipts,
          { senderId: caller.userId, clientMsgId: frame.clientMsgId, fingerprint: fingerprintOf('private', frame.target, bodyJson) },
          draft,
        )
      : { ...draft, resend: false };
  // Read fresh, not cached: a duration the recipient set a moment ago applies to this message (SPEC §5).
  const { app, user } = await deps.settings.retentionFor(frame.target, { current: true });
  const message: QueuedMessage = {
    id,
    type: 'private',
    from: caller.userId,
    to: frame.target,
    bodyJson,
    sentAt,
    expiresAt: messageExpiry(sentAt, frame.ttlSeconds, durationInForce('private', app, user).days),
    qos,
    ...(caller.byBackend && { byBackend: true }),
  };

  const except = caller.connectionId;
  if (qos === 1 && !(await recipientSessionExpired(deps, message.to, now, app.sessionExpiryHours))) {
    const keptInHistoryUntil = app.historyEnabled ? historyExpiry(sentAt, 'private', app) : undefined;
    await deliverPrivate(deps, message, keptInHistoryUntil, except, app.offlineEventsEnabled);
  } else {
    await pushToUsers(deps, [message.to, caller.userId], [frameOf(message)], { except });
  }
  if (qos === 1 && app.recentConversationsEnabled) {
    await recordRecent(deps, message, historyExpiry(sentAt, 'private', app));
  }
  return { type: 'sent', clientMsgId: frame.clientMsgId, id, status: resend ? 'duplicate' : 'accepted' };
}

function servingRooms(rooms: RoomStore | undefined): RoomStore {
  if (!rooms) throw new ForbiddenError('chatroom messages are sent on a connection that joined the room');
  return rooms;
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
 * Stores a qos-1 private message under its claimed id and pushes it to the recipient's open
 * connections and the sender's other devices. Every step is safe to redo, and a resend redoes them
 * all, so a try that failed or died anywhere is completed by the next one:
 *
 * 1. The recipient's copy and the history copy are put (the same items, whoever puts them).
 * 2. The connections are looked up, strongly consistent, after the write: a recipient connecting
 *    meanwhile gets the message from its drain or from the push (see connectionsOf).
 * 3. The message is pushed (pushStored); a connection still draining has it left to its drain, and an
 *    acknowledgement by bound that could cover it unseen is reopened. Meanwhile, a recipient the
 *    lookup found with no open connection is announced (`announce`: lib/events/offline-events).
 *
 * A failure anywhere answers INTERNAL; nothing is taken back, as another device may be completing the
 * same send and be told `duplicate` with this very id.
 */
async function deliverPrivate(
  deps: SendDeps,
  message: QueuedMessage,
  /** Undefined: history is switched off (`historyEnabled`). */
  keptInHistoryUntil: Date | undefined,
  except: string | undefined,
  announce: boolean,
): Promise<void> {
  const conversation = privateConversationId(message.from, message.to);
  const writes = await Promise.allSettled([
    deps.queue.put(message.to, message),
    keptInHistoryUntil && deps.history.put(conversation, { ...message, expiresAt: keptInHistoryUntil }),
  ]);
  const failed = writes.find((write) => write.status === 'rejected');
  if (failed) throw failed.reason;
  const found = await deps.connections.lookup([message.to, message.from], deps.clock.now(), { consistent: true });
  const recipient = found.get(message.to);
  const offline = announce && (recipient?.connections.length ?? 0) === 0;
  const frames = [frameOf(message)];
  await Promise.all([
    recipient ? pushStored(deps, recipient, frames, message.id, { except }) : undefined,
    // The sender's other devices see it too; it is not stored for them (unless sent to themselves).
    message.from === message.to ? undefined : pushFrames(deps, found.get(message.from)?.connections ?? [], frames, { except }),
    offline ? emitOfflineEvents(deps, [offlineEventOf(message.to, message)]) : undefined,
  ]);
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
