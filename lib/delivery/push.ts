/**
 * Delivery to open connections: messages packed many to a frame, frames posted through API Gateway's
 * `@connections` API, and connections that API Gateway no longer knows forgotten.
 */
import type { Clock } from '../clock';
import { connectionsOf, type Connection, type ConnectionStore } from '../connecting/connections';
import { limits } from '../protocol';
import type { StatsCounters } from '../admin/stats';

export interface ConnectionPoster {
  /** 'gone' when API Gateway answers 410: the connection is closed, or not yet open. */
  post(connectionId: string, data: string): Promise<'delivered' | 'gone'>;
  /** Whether API Gateway would take a post now (`GET @connections`), without sending anything. */
  isOpen(connectionId: string): Promise<boolean>;
  /** Closes the connection; 'gone' when API Gateway answers 410: already closed, or not open yet. */
  close(connectionId: string): Promise<'closed' | 'gone'>;
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
  /** Counts the pushes that reached a connection (GET /v1/stats); only the push knows. */
  stats?: Pick<StatsCounters, 'add'>;
}

export interface PushOptions {
  /** The connection the message came in on: it gets a reply instead. */
  except?: string;
  /**
   * The message is stored, under this id, in these users' queues: their connections still draining
   * are left to the drain, which delivers it in order (see Connection.draining), and one whose push
   * fails is closed. Everyone else (the sender's other devices) just gets the push.
   */
  stored?: { messageId: string; recipients: readonly string[] };
}

export interface PushReport {
  /** Connections that received every frame. */
  delivered: number;
  /** Connections still draining, whose drain will deliver the message. */
  leftToDrain: number;
  /** Connections API Gateway no longer knew, now forgotten. */
  forgotten: number;
  /** Connections just recorded that API Gateway has not opened yet (410), left to their drain. */
  notOpenYet: number;
  /** Connections that missed a stored message and were closed, so that they reconnect and drain it in order. */
  closed: number;
  failed: number;
}

/**
 * Posts the frames, in order, to every open connection of these users but `except`, for what is not
 * stored for them: a qos-0 message, or a copy for the sender's other devices. Never throws: such a
 * push is meant to be lost when nobody listens. (A stored message's recipients are looked up with a
 * strongly consistent read, and must be found, before it is accepted: see connectionsOf.)
 */
export async function pushToUsers(
  deps: PushDeps,
  userIds: readonly string[],
  frames: readonly string[],
  options: Pick<PushOptions, 'except'> = {},
): Promise<PushReport> {
  let connections: Connection[];
  try {
    connections = await connectionsOf(deps.connections, userIds, deps.clock.now());
  } catch (error) {
    deps.log.warn('could not look up connections to push to', { userIds, error });
    return { delivered: 0, leftToDrain: 0, forgotten: 0, notOpenYet: 0, closed: 0, failed: 1 };
  }
  return pushFrames(deps, connections, frames, options);
}

/**
 * Posts the frames to each connection. A connection that misses a message stored for its user (the
 * post failed even after the SDK's retries) is forgotten and closed, as an MQTT broker closes a
 * connection it cannot write to: otherwise the next message would reach it first, out of order. The
 * client reconnects and its drain delivers both, in order.
 */
export async function pushFrames(
  deps: PushDeps,
  connections: readonly Connection[],
  frames: readonly string[],
  options: PushOptions = {},
): Promise<PushReport> {
  const report: PushReport = { delivered: 0, leftToDrain: 0, forgotten: 0, notOpenYet: 0, closed: 0, failed: 0 };
  const { stored } = options;
  const storedFor = new Set(stored?.recipients);
  await Promise.all(
    connections
      .filter((connection) => connection.connectionId !== options.except)
      .map(async (connection) => {
        try {
          const isStoredFor = stored !== undefined && storedFor.has(connection.userId);
          const drain = !isStoredFor
            ? 'finished'
            : connection.drainLapsed
              ? 'lapsed'
              : connection.draining
                ? await deps.connections.leaveToDrain(connection.userId, connection.connectionId, stored.messageId, deps.clock.now())
                : 'finished';
          if (drain === 'left') {
            report.leftToDrain += 1;
            return;
          }
          if (drain === 'gone') {
            report.forgotten += 1;
            return;
          }
          if (drain === 'lapsed') {
            // Its drain stalled or died before the queue was out: this message would overtake what it never got.
            await cutOff(deps, connection);
            report.closed += 1;
            return;
          }
          for (const frame of frames) {
            if ((await deps.poster.post(connection.connectionId, frame)) === 'gone') {
              // API Gateway answers 410 until `$connect` has returned, too: a connection that has only
              // just been recorded is left alone when what it missed is not stored for it (a qos-0
              // message, a copy for the sender's other devices). Any other is forgotten, so that nothing
              // later reaches it before what it missed; the message stays queued for the next connection.
              if (connection.draining && !storedFor.has(connection.userId)) {
                report.notOpenYet += 1;
                return;
              }
              await deps.connections.remove(connection.userId, connection.connectionId, deps.clock.now());
              report.forgotten += 1;
              return;
            }
          }
          report.delivered += 1;
          deps.stats?.add('messagesPushed', 1);
        } catch (error) {
          report.failed += 1;
          deps.log.warn('push failed', { connectionId: connection.connectionId, error });
          if (storedFor.has(connection.userId)) {
            await cutOff(deps, connection);
            report.closed += 1;
          }
        }
      }),
  );
  return report;
}

/**
 * Forgets a connection that can no longer be delivered to in order, then closes it; best effort, as
 * each step alone keeps later messages from overtaking the one it missed.
 */
export async function cutOff(deps: PushDeps, connection: Pick<Connection, 'userId' | 'connectionId'>): Promise<'closed' | 'gone' | 'failed'> {
  const [removal, closing] = await Promise.allSettled([
    deps.connections.remove(connection.userId, connection.connectionId, deps.clock.now()),
    deps.poster.close(connection.connectionId),
  ]);
  for (const step of [removal, closing]) {
    if (step.status === 'rejected') deps.log.warn('could not cut off a connection', { connectionId: connection.connectionId, error: step.reason });
  }
  return closing.status === 'fulfilled' ? closing.value : 'failed';
}
