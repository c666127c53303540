/**
 * `send` (SPEC §4, §5): a qos-1 message is stored for its recipient before the sender hears
 * `accepted`, then pushed to the recipient's open connections and to the sender's other devices.
 */
import type { Clock } from './clock';
import { packFrames, pushFrames, type PushDeps } from './delivery';
import { TooLargeError } from './errors';
import type { Caller } from './connections';
import { toWireMessage, type OfflineQueue, type QueuedMessage } from './offline-queue';
import { limits, type Reply, type SendFrame } from './protocol';
import { defaultOfflineMessageDurationDays, messageExpiry } from './retention';
import { receiptLifetimeSeconds, type SendReceipts } from './send-receipts';

export interface SendDeps extends PushDeps {
  queue: OfflineQueue;
  receipts: SendReceipts;
  clock: Clock;
  newId: (acceptedAt: Date) => string;
}

export async function sendMessage(deps: SendDeps, caller: Caller, frame: SendFrame): Promise<Reply> {
  const bodyJson = JSON.stringify(frame.body);
  if (Buffer.byteLength(bodyJson) > limits.bodyMaxBytes) {
    throw new TooLargeError(`body is larger than ${limits.bodyMaxBytes / 1024} KB once serialized`);
  }
  const sentAt = deps.clock.now();
  const message: QueuedMessage = {
    id: deps.newId(sentAt),
    type: frame.type,
    from: caller.userId,
    to: frame.target,
    bodyJson,
    sentAt,
    expiresAt: messageExpiry(sentAt, frame.ttlSeconds, defaultOfflineMessageDurationDays),
    qos: frame.qos ?? 1,
  };

  if (message.qos === 1) {
    const original = await store(deps, message, frame.clientMsgId);
    if (original !== undefined) {
      return { type: 'sent', clientMsgId: frame.clientMsgId, id: original, status: 'duplicate' };
    }
  }

  const frames = packFrames([JSON.stringify(toWireMessage(message))]);
  await pushFrames(deps, [message.to, caller.userId], frames, { except: caller.connectionId });
  return { type: 'sent', clientMsgId: frame.clientMsgId, id: message.id, status: 'accepted' };
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
    claim = await deps.receipts.claim({
      senderId: message.from,
      clientMsgId,
      messageId: message.id,
      expiresAt: new Date(message.sentAt.getTime() + receiptLifetimeSeconds * 1000),
    }, message.sentAt);
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
