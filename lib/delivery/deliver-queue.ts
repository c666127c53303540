/**
 * Delivering a user's queue to one connection, once planned (lib/retention/queue-plan.ts): `dropped`
 * frames for what the client will never see, then every message it will, oldest first, packed into
 * frames of up to 32 KB; what was dropped is removed on the way. The drain and `sync` run it under the
 * ordering rules of lib/delivery/ordering.ts.
 */
import type { Clock } from '../clock';
import { FramePacker, toWireMessage, type QueuedMessage } from '../messages';
import type { DroppedReason } from '../protocol';
import { QueuePlan, type QueuePolicy } from '../retention/queue-plan';
import type { OfflineQueue } from './offline-queue';
import type { ConnectionPoster } from './poster';

export interface QueueReader {
  queue: OfflineQueue;
  clock: Clock;
}

/**
 * Plans the user's queue. A queue that fits in memory is read once and handed back for delivery; a
 * longer one is only counted here, and read again for delivery.
 */
export async function planQueue(
  deps: QueueReader,
  userId: string,
  policy: QueuePolicy,
  span: QueueSpan = {},
  /** The queue as readAhead read it, when it did: planned from memory, not read again. */
  readAlready?: readonly QueuedMessage[],
): Promise<{ plan: QueuePlan; messages: Iterable<QueuedMessage> | AsyncIterable<QueuedMessage> }> {
  const plan = new QueuePlan(policy, deps.clock.now());
  if (readAlready) {
    const messages = readAlready.filter((message) => inSpan(message.id, span));
    for (const message of messages) plan.observe(message);
    plan.finish();
    return { plan, messages };
  }
  let kept: QueuedMessage[] | undefined = [];
  const fits = memoryBudget();
  for await (const message of messagesOf(deps.queue, userId, span)) {
    plan.observe(message);
    if (!kept) continue;
    kept.push(message);
    if (!fits(message)) kept = undefined;
  }
  plan.finish();
  return { plan, messages: kept ?? messagesOf(deps.queue, userId, span) };
}

/** The part of a queue a delivery covers; all of it by default. */
export interface QueueSpan {
  /** Only this message and later ones. */
  from?: string;
  /** Only messages past this one: the user's acknowledgement bound (see lib/delivery/ordering.ts). */
  after?: string;
  /** Messages an earlier pass of the same drain sent: left out, and those sent now are added. */
  sent?: Set<string>;
}

/** Past this, a queue is read twice rather than held: a Lambda function has memory to spare, not to waste. */
const inMemoryQueueBytes = 4 * 1024 * 1024;

/** Counts messages held in memory: false once they pass inMemoryQueueBytes. */
function memoryBudget(): (message: QueuedMessage) => boolean {
  let bytes = 0;
  return (message) => (bytes += message.bodyJson.length + 200) <= inMemoryQueueBytes;
}

/**
 * The queue past `after`, read before anything else is known (the drain starts it while it claims the
 * connection and reads the settings); undefined once it outgrows memory, to be read as it is planned.
 */
export async function readAhead(queue: OfflineQueue, userId: string, after: string | undefined): Promise<QueuedMessage[] | undefined> {
  const messages: QueuedMessage[] = [];
  const fits = memoryBudget();
  for await (const message of messagesOf(queue, userId, after === undefined ? {} : { after })) {
    if (!fits(message)) return undefined;
    messages.push(message);
  }
  return messages;
}

function inSpan(id: string, span: QueueSpan): boolean {
  return (span.from === undefined || id >= span.from) && (span.after === undefined || id > span.after) && !span.sent?.has(id);
}

async function* messagesOf(queue: OfflineQueue, userId: string, span: QueueSpan): AsyncIterable<QueuedMessage> {
  for await (const page of queue.pages(userId, span.from, span.after)) {
    for (const message of page) if (inSpan(message.id, span)) yield message;
  }
}

export interface DeliverDeps extends QueueReader {
  poster: Pick<ConnectionPoster, 'post'>;
  /** Frame size; the benchmark sets 1 to compare with a drain that posts one message at a time. */
  frameMaxBytes?: number;
}

export interface DeliveryReport {
  delivered: number;
  frames: number;
  dropped: Array<{ reason: DroppedReason; count: number }>;
  /** Of `dropped`, those that had expired by time (counted apart for the metrics). */
  expiredSkipped: number;
  /** The connection went away part way; what was not delivered stays queued. */
  connectionGone: boolean;
}

/** Removals are batched: 25 is BatchWriteItem's limit. */
const removalBatch = 25;

/**
 * Announces what the client will never see, then posts every message it will, oldest first, packed
 * into frames of up to 32 KB; what was dropped is removed from the queue on the way.
 */
export async function deliverQueue(
  deps: DeliverDeps,
  userId: string,
  connectionId: string,
  policy: QueuePolicy,
  span: QueueSpan = {},
  /**
   * `markDrain`: whether to mark the frames `drain: true`, once the plan says how many messages will
   * go out (the drain on connect decides so: see lib/delivery/ordering.ts). `readAlready`: the queue
   * as readAhead read it.
   */
  options: { markDrain?: (deliverable: number) => boolean; readAlready?: readonly QueuedMessage[] | undefined } = {},
): Promise<DeliveryReport> {
  const { plan, messages } = await planQueue(deps, userId, policy, span, options.readAlready);
  const marked = options.markDrain?.(plan.deliverableCount) ?? false;
  const report: DeliveryReport = { delivered: 0, frames: 0, dropped: plan.dropped(), expiredSkipped: plan.expiredCount, connectionGone: false };
  const post = async (frame: string): Promise<boolean> => {
    if ((await deps.poster.post(connectionId, frame)) === 'gone') {
      report.connectionGone = true;
      return false;
    }
    report.frames += 1;
    return true;
  };

  for (const { reason, count } of report.dropped) {
    if (!(await post(JSON.stringify({ type: 'dropped', count, reason })))) return report;
  }

  const packer = new FramePacker(deps.frameMaxBytes, { drain: marked });
  // Packed, but in the packer's open frame, not yet posted.
  let packed: string[] = [];
  const flush = async (frame: string | undefined): Promise<boolean> => {
    if (frame === undefined) return true;
    if (!(await post(frame))) return false;
    // Every message but those in the packer's open frame has now gone out.
    report.delivered += packed.length;
    for (const id of packed) span.sent?.add(id);
    packed = [];
    return true;
  };
  let removals: string[] = [];
  for await (const message of messages) {
    if (plan.judge(message) !== 'deliver') {
      removals.push(message.id);
      if (removals.length === removalBatch) {
        await deps.queue.removeMany(userId, removals);
        removals = [];
      }
      continue;
    }
    if (!(await flush(packer.add(JSON.stringify(toWireMessage(message)))))) return report;
    packed.push(message.id);
  }
  if (removals.length > 0) await deps.queue.removeMany(userId, removals);
  await flush(packer.flush());
  return report;
}
