/**
 * `send` (SPEC §4, §5): a qos-1 message is stored for its recipient before the sender hears
 * `accepted`, then pushed to the recipient's open connections and to the sender's other devices.
 */
import type { Clock } from './clock';
import { sessionExpired, type Caller } from './connections';
import { packFrames, pushToUsers, type PushDeps } from './delivery';
import { TooLargeError } from './errors';
import { toWireMessage, type OfflineQueue, type QueuedMessage } from './offline-queue';
import { limits, type Reply, type SendFrame } from './protocol';
import { durationInForce, messageExpiry } from './retention';
import { receiptLifetimeSeconds, type SendReceipts } from './send-receipts';
import type { SettingsReader } from './settings-reader';

export interface SendDeps extends PushDeps {
  queue: OfflineQueue;
  receipts: SendReceipts;
  settings: SettingsReader;
  clock: Clock;
  newId: (acceptedAt: Date) => string;
}

export async function sendMessage(deps: SendDeps, caller: Caller, frame: SendFrame): Promise<Reply> {
  const bodyJson = JSON.stringify(frame.body);
  if (Buffer.byteLength(bodyJson) > limits.bodyMaxBytes) {
    throw new TooLargeError(`body is larger than ${limits.bodyMaxBytes / 1024} KB once serialized`);
  }
  const sentAt = deps.clock.now();
  const { app, user } = await deps.settings.retentionFor(frame.target);
  const message: QueuedMessage = {
    id: deps.newId(sentAt),
    type: frame.type,
    from: caller.userId,
    to: frame.target,
    bodyJson,
    sentAt,
    expiresAt: messageExpiry(sentAt, frame.ttlSeconds, durationInForce(frame.type, app, user).days),
    qos: frame.qos ?? 1,
  };

  if (message.qos === 1 && !(await recipientSessionExpired(deps, message.to, sentAt, app.sessionExpiryHours))) {
    const original = await store(deps, message, frame.clientMsgId);
    if (original !== undefined) {
      return { type: 'sent', clientMsgId: frame.clientMsgId, id: original, status: 'duplicate' };
    }
  }

  // Looked up after the write: a recipient connecting meanwhile gets it from the drain or from here.
  const frames = packFrames([JSON.stringify(toWireMessage(message))]);
  await pushToUsers(deps, [message.to, caller.userId], frames, { except: caller.connectionId });
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
 * Writes the message for its recipient, then claims the send receipt. The message goes first so that a
 * receipt always stands for a stored message: a crash between the two leaves a message without a receipt
 * (a resend stores it twice, under another id) but never a receipt without a message (a resend would be
 * called a duplicate of something never stored). Resolves to the original id when this is a resend.
 */
async function store(deps: SendDeps, message: QueuedMessage, clientMsgId: string): Promise<string | undefined> {
  await deps.queue.put(message.to, message);
  let claim;
  try {
    claim = await deps.receipts.claim(
      {
        senderId: message.from,
        clientMsgId,
        messageId: message.id,
        expiresAt: new Date(message.sentAt.getTime() + receiptLifetimeSeconds * 1000),
      },
      message.sentAt,
    );
  } catch (error) {
    await withdraw(deps, message);
    throw error;
  }
  if (claim.claimed) return undefined;
  await withdraw(deps, message);
  return claim.messageId;
}

/** Takes back a copy that must not be delivered; if that fails too, the recipient may see it twice. */
async function withdraw(deps: SendDeps, message: QueuedMessage): Promise<void> {
  try {
    await deps.queue.remove(message.to, message.id);
  } catch (error) {
    deps.log.warn('could not withdraw a message that was not accepted', { messageId: message.id, error });
  }
}
