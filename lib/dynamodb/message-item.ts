/**
 * A stored message as plain attributes, readable in the DynamoDB console: the offline queue and the
 * history both keep messages this way.
 */
import { epochSeconds } from '../clock';
import type { QueuedMessage } from '../messages';

export interface MessageAttributes {
  id: string;
  type: QueuedMessage['type'];
  from: string;
  to: string;
  /**
   * The body as the JSON text the sender sent. Stored as text rather than a DynamoDB map so that any
   * JSON survives: DynamoDB maps refuse nesting past 32 levels and numbers past 38 digits.
   */
  body: string;
  sentAt: string;
  /** Epoch seconds; DynamoDB TTL deletes the item some time after. */
  expiresAt: number;
  qos: 0 | 1;
  /** Only on a message the app's backend sent. */
  byBackend?: true;
}

export function toMessageAttributes(message: QueuedMessage): MessageAttributes {
  return {
    id: message.id,
    type: message.type,
    from: message.from,
    to: message.to,
    body: message.bodyJson,
    sentAt: message.sentAt.toISOString(),
    expiresAt: epochSeconds(message.expiresAt),
    qos: message.qos,
    ...(message.byBackend && { byBackend: true }),
  };
}

export function fromMessageAttributes(item: MessageAttributes): QueuedMessage {
  return {
    id: item.id,
    type: item.type,
    from: item.from,
    to: item.to,
    bodyJson: item.body,
    sentAt: new Date(item.sentAt),
    expiresAt: new Date(item.expiresAt * 1000),
    qos: item.qos,
    ...(item.byBackend && { byBackend: true }),
  };
}
