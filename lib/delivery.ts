/**
 * Delivery to open connections: messages packed many to a frame, frames posted through API Gateway's
 * `@connections` API, and connections that API Gateway no longer knows forgotten.
 */
import type { Clock } from './clock';
import { connectionsOf, type Connection, type ConnectionStore } from './connections';
import { limits } from './protocol';

export interface ConnectionPoster {
  /** 'gone' when API Gateway answers 410: the connection is closed, or not yet open. */
  post(connectionId: string, data: string): Promise<'delivered' | 'gone'>;
}

/** Warnings about deliveries that failed after a message was safely stored. */
export interface DeliveryLog {
  warn(message: string, details: Record<string, unknown>): void;
}

const frameOpen = '{"type":"messages","messages":[';
const frameClose = ']}';
const envelopeBytes = Buffer.byteLength(frameOpen + frameClose);

/**
 * Packs serialized messages, in order, into `messages` frames of at most 32 KB (API Gateway's frame
 * size, and the unit it meters), each frame as full as the next message allows. A message too big for
 * any frame travels alone.
 */
export class FramePacker {
  private parts: string[] = [];
  private bytes = envelopeBytes;

  constructor(private readonly maxBytes: number = limits.outboundFrameMaxBytes) {}

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
    const frame = `${frameOpen}${this.parts.join(',')}${frameClose}`;
    this.parts = [];
    this.bytes = envelopeBytes;
    return frame;
  }
}

export function packFrames(messageJsons: readonly string[], maxBytes?: number): string[] {
  const packer = new FramePacker(maxBytes);
  const frames = messageJsons.map((json) => packer.add(json)).filter((frame) => frame !== undefined);
  const last = packer.flush();
  return last === undefined ? frames : [...frames, last];
}

export interface PushDeps {
  connections: ConnectionStore;
  poster: ConnectionPoster;
  clock: Clock;
  log: DeliveryLog;
}

export interface PushReport {
  /** Connections that received every frame. */
  delivered: number;
  /** Connections API Gateway no longer knew, now forgotten. */
  forgotten: number;
  failed: number;
}

/**
 * Posts the frames, in order, to every open connection of these users but `except`. Never throws:
 * a push is a courtesy to online devices, and what it carries is already stored (qos 1) or meant to
 * be lost when nobody listens (qos 0).
 */
export async function pushToUsers(
  deps: PushDeps,
  userIds: readonly string[],
  frames: readonly string[],
  options: { except?: string } = {},
): Promise<PushReport> {
  let connections: Connection[];
  try {
    connections = await connectionsOf(deps.connections, userIds, deps.clock.now());
  } catch (error) {
    deps.log.warn('could not look up connections to push to', { userIds, error });
    return { delivered: 0, forgotten: 0, failed: 1 };
  }
  return pushFrames(deps, connections, frames, options);
}

export async function pushFrames(
  deps: PushDeps,
  connections: readonly Connection[],
  frames: readonly string[],
  options: { except?: string } = {},
): Promise<PushReport> {
  const report: PushReport = { delivered: 0, forgotten: 0, failed: 0 };
  const targets = connections.filter((connection) => connection.connectionId !== options.except);
  await Promise.all(
    targets.map(async (connection) => {
      try {
        for (const frame of frames) {
          if ((await deps.poster.post(connection.connectionId, frame)) === 'gone') {
            // A stale connection is forgotten; the message stays queued for the next connection.
            await deps.connections.remove(connection.userId, connection.connectionId, deps.clock.now());
            report.forgotten += 1;
            return;
          }
        }
        report.delivered += 1;
      } catch (error) {
        report.failed += 1;
        deps.log.warn('push failed', { connectionId: connection.connectionId, error });
      }
    }),
  );
  return report;
}
