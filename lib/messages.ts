/**
 * A message as the service keeps it and as clients see it (SPEC §4 `messages` frame): the types every
 * capability shares — queues, history, groups, chatrooms — and the packing of messages into frames.
 */
import { limits, type Message } from './protocol';

/** A message as it is stored for one recipient. The body is kept as the JSON text the sender sent. */
export interface QueuedMessage {
  id: string;
  type: Message['type'];
  from: string;
  to: string;
  bodyJson: string;
  sentAt: Date;
  expiresAt: Date;
  qos: 0 | 1;
  /** Sent by the app's backend on `from`'s behalf: exempt from `maxOfflineMessagesPerSender`. Never on the wire. */
  byBackend?: true;
}

/** A message before it has a recipient: each copy gets its own `to` (private, system) and expiry. */
export interface MessageDraft {
  id: string;
  type: QueuedMessage['type'];
  from: string;
  /** The group, for group messages; for the others each copy's recipient replaces it. */
  to: string;
  bodyJson: string;
  sentAt: Date;
  ttlSeconds?: number;
  byBackend?: true;
}

export function toWireMessage(message: QueuedMessage): Message {
  return {
    id: message.id,
    type: message.type,
    from: message.from,
    to: message.to,
    body: JSON.parse(message.bodyJson) as unknown,
    sentAt: message.sentAt.toISOString(),
    expiresAt: message.expiresAt.toISOString(),
    qos: message.qos,
  };
}

const frameClose = ']}';

/**
 * Packs serialized messages, in order, into `messages` frames of at most 32 KB (API Gateway's frame
 * size, and the unit it meters), each frame as full as the next message allows. A message too big for
 * any frame travels alone.
 */
export class FramePacker {
  private parts: string[] = [];
  private readonly frameOpen: string;
  private readonly envelopeBytes: number;
  private bytes: number;

  /** `drain`: frames the drain on connect posts, marked `"drain":true` (SPEC §4 `messages`). */
  constructor(
    private readonly maxBytes: number = limits.outboundFrameMaxBytes,
    options: { drain?: boolean } = {},
  ) {
    this.frameOpen = options.drain ? '{"type":"messages","drain":true,"messages":[' : '{"type":"messages","messages":[';
    this.envelopeBytes = Buffer.byteLength(this.frameOpen + frameClose);
    this.bytes = this.envelopeBytes;
  }

  /** Adds a message; returns the frame it closed, when the message did not fit in the open one. */
  add(messageJson: string): string | undefined {
    const size = Buffer.byteLength(messageJson);
    const separator = this.parts.length > 0 ? 1 : 0;
    const closed = this.parts.length > 0 && this.bytes + separator + size > this.maxBytes ? this.flush() : undefined;
    this.bytes += (this.parts.length > 0 ? 1 : 0) + size;
    this.parts.push(messageJson);
    return closed;
  }

  /** The open frame, if it holds anything. */
  flush(): string | undefined {
    if (this.parts.length === 0) return undefined;
    const frame = `${this.frameOpen}${this.parts.join(',')}${frameClose}`;
    this.parts = [];
    this.bytes = this.envelopeBytes;
    return frame;
  }
}

export function packFrames(messageJsons: readonly string[], maxBytes?: number): string[] {
  const packer = new FramePacker(maxBytes);
  const frames = messageJsons.map((json) => packer.add(json)).filter((frame) => frame !== undefined);
  const last = packer.flush();
  return last === undefined ? frames : [...frames, last];
}

/** The `messages` frame that carries one message. */
export function frameOf(message: QueuedMessage): string {
  return packFrames([JSON.stringify(toWireMessage(message))])[0] as string;
}
