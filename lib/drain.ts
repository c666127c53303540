/**
 * Delivering a user's queue to one connection: on connect, without being asked, and on `sync`.
 *
 * Before anything is sent, the whole queue is planned: what the client will never see (discarded by a
 * clean start or an expired session, expired, or over a cap) is counted, announced in `dropped`
 * frames, and removed; the rest, only ever the newest N, is delivered oldest first.
 */
import type { Clock } from './clock';
import { connectionsOf, type ConnectionStore, type Discard } from './connections';
import { cutOff, FramePacker, type ConnectionPoster, type DeliveryLog } from './delivery';
import { toWireMessage, type OfflineQueue, type QueuedMessage } from './offline-queue';
import type { DroppedReason } from './protocol';
import { effectiveExpiry } from './retention';
import type { AppSettings, UserSettings } from './settings';
import type { SettingsReader } from './settings-reader';

export interface QueuePolicy {
  app: AppSettings;
  user: UserSettings | undefined;
  discard?: Discard;
}

/** The settings that decide a user's queue: the app's through the cache, the user's own as they are now (SPEC §5). */
export async function queuePolicyFor(settings: SettingsReader, userId: string, discard?: Discard): Promise<QueuePolicy> {
  return { ...(await settings.retentionFor(userId, { current: true })), ...(discard && { discard }) };
}

type Verdict = 'deliver' | 'overflow' | 'expired' | 'discard';

/**
 * Decides, message by message, what the client gets. It first observes the whole queue, oldest first,
 * to count what is deliverable (in all, and per group); then it judges the same messages in the same
 * order, spending the overflow on the oldest: per group first (`groupOfflineMaxMessages`), then over
 * the user's whole queue (`maxOfflineMessages`).
 */
export class QueuePlan {
  private deliverable = 0;
  private readonly deliverablePerGroup = new Map<string, number>();
  private readonly counts: Record<Exclude<Verdict, 'deliver'>, number> = { overflow: 0, expired: 0, discard: 0 };
  private userOverflowLeft = 0;
  private readonly groupOverflowLeft = new Map<string, number>();
  private finished = false;

  constructor(
    private readonly policy: QueuePolicy,
    private readonly now: Date,
  ) {}

  observe(message: QueuedMessage): void {
    const kind = this.kindOf(message);
    if (kind !== 'deliver') {
      this.counts[kind] += 1;
      return;
    }
    this.deliverable += 1;
    if (message.type === 'group') this.deliverablePerGroup.set(message.to, (this.deliverablePerGroup.get(message.to) ?? 0) + 1);
  }

  /** Call once every message has been observed. */
  finish(): void {
    const groupCap = this.policy.app.groupOfflineMaxMessages;
    let afterGroupCaps = this.deliverable;
    for (const [group, count] of this.deliverablePerGroup) {
      const over = groupCap === null ? 0 : Math.max(0, count - groupCap);
      this.groupOverflowLeft.set(group, over);
      afterGroupCaps -= over;
    }
    this.userOverflowLeft = Math.max(0, afterGroupCaps - this.policy.app.maxOfflineMessages);
    this.counts.overflow = this.deliverable - afterGroupCaps + this.userOverflowLeft;
    this.finished = true;
  }

  /** What the client will never see, by the reason the `dropped` frame gives. */
  dropped(): Array<{ reason: DroppedReason; count: number }> {
    const expired = this.counts.expired + (this.policy.discard?.reason === 'expired' ? this.counts.discard : 0);
    const cleanStart = this.policy.discard?.reason === 'cleanStart' ? this.counts.discard : 0;
    return (
      [
        { reason: 'cleanStart', count: cleanStart },
        { reason: 'expired', count: expired },
        { reason: 'overflow', count: this.counts.overflow },
      ] as const
    ).filter((entry) => entry.count > 0);
  }

  /** The messages it would deliver, should the drain run now. */
  get deliverableCount(): number {
    return this.deliverable - this.counts.overflow;
  }

  /** Judges the next message, oldest first, in the same order as observed. */
  judge(message: QueuedMessage): Verdict {
    if (!this.finished) throw new Error('judge() before finish()');
    const kind = this.kindOf(message);
    if (kind !== 'deliver') return kind;
    const groupLeft = message.type === 'group' ? (this.groupOverflowLeft.get(message.to) ?? 0) : 0;
    if (groupLeft > 0) {
      this.groupOverflowLeft.set(message.to, groupLeft - 1);
      return 'overflow';
    }
    if (this.userOverflowLeft > 0) {
      this.userOverflowLeft -= 1;
      return 'overflow';
    }
    return 'deliver';
  }

  private kindOf(message: QueuedMessage): Verdict {
    if (this.policy.discard && message.id < this.policy.discard.beforeId) return 'discard';
    if (effectiveExpiry(message, this.policy.app, this.policy.user) <= this.now) return 'expired';
    return 'deliver';
  }
}

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
): Promise<{ plan: QueuePlan; messages: Iterable<QueuedMessage> | AsyncIterable<QueuedMessage> }> {
  const plan = new QueuePlan(policy, deps.clock.now());
  let kept: QueuedMessage[] | undefined = [];
  let keptBytes = 0;
  for await (const message of messagesOf(deps.queue, userId, span)) {
    plan.observe(message);
    if (!kept) continue;
    kept.push(message);
    keptBytes += message.bodyJson.length + 200;
    if (keptBytes > inMemoryQueueBytes) kept = undefined;
  }
  plan.finish();
  return { plan, messages: kept ?? messagesOf(deps.queue, userId, span) };
}

/** The part of a queue a delivery covers; all of it, read eventually consistent, by default. */
export interface QueueSpan {
  /** Only this message and later ones. */
  from?: string;
  consistent?: boolean;
  /** Messages an earlier pass of the same drain sent: left out, and those sent now are added. */
  sent?: Set<string>;
}

/** Past this, a queue is read twice rather than held: a Lambda function has memory to spare, not to waste. */
const inMemoryQueueBytes = 4 * 1024 * 1024;

async function* messagesOf(queue: OfflineQueue, userId: string, span: QueueSpan): AsyncIterable<QueuedMessage> {
  const options = { ...(span.from !== undefined && { from: span.from }), ...(span.consistent && { consistent: true }) };
  for await (const page of queue.pages(userId, options)) {
    for (const message of page) if (!span.sent?.has(message.id)) yield message;
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
): Promise<DeliveryReport> {
  const { plan, messages } = await planQueue(deps, userId, policy, span);
  const report: DeliveryReport = { delivered: 0, frames: 0, dropped: plan.dropped(), connectionGone: false };
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

  const packer = new FramePacker(deps.frameMaxBytes);
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

/**
 * `sync` (SPEC §4): the caller's queue again, on the connection that asked, then how many messages
 * that was. What the connection's start discarded (clean start, expired session) stays discarded. A
 * connection that went away part way is not told a count: `synced` with too small a count would read
 * as "nothing more is waiting".
 */
export async function syncQueue(
  deps: DeliverDeps & { connections: Pick<ConnectionStore, 'lookup'>; settings: SettingsReader },
  caller: { userId: string; connectionId: string },
): Promise<number> {
  // Consistent: the discard was recorded by this very connection's `$connect`, a moment ago.
  const presence = (await deps.connections.lookup([caller.userId], deps.clock.now(), { consistent: true })).get(caller.userId);
  const policy = await queuePolicyFor(deps.settings, caller.userId, presence?.discard);
  const report = await deliverQueue(deps, caller.userId, caller.connectionId, policy);
  if (report.connectionGone) throw new Error('the connection went away during sync');
  return report.delivered;
}

export interface DrainRequest {
  userId: string;
  connectionId: string;
  discard?: Discard;
}

export interface DrainDeps extends DeliverDeps {
  poster: ConnectionPoster;
  connections: ConnectionStore;
  sleep: (ms: number) => Promise<void>;
  log: DeliveryLog;
}

/** How long a drain waits for API Gateway to open the connection: its first post waits this long at most. */
export const openWaitMs = 10_000;

/**
 * Delivers the queue to a connection that is still opening. API Gateway refuses posts with 410 until
 * `$connect` has returned, and the drain starts while it runs; so a 410 on the first post means "not yet"
 * as long as the connection is still recorded, and the post is tried again with backoff.
 *
 * Until the drain is done, pushes of stored messages leave them to it (see Connection.draining), so
 * that nothing newer overtakes what the drain has yet to send. When the queue has been sent, the drain
 * finishes, unless messages were left to it meanwhile: then it reads the queue again from the oldest of
 * those, sends what it has not sent yet, and tries again.
 *
 * A drain that fails part way cuts the connection off: the client reconnects and drains again, rather
 * than carry on with a gap in its queue.
 */
export async function drainOnConnect(deps: DrainDeps, request: DrainRequest, policy: QueuePolicy): Promise<DeliveryReport> {
  const posting = { ...deps, poster: postWhenOpen(deps, request) };
  const sent = new Set<string>();
  const reports: DeliveryReport[] = [];
  try {
    // Consistent: a message stored a moment before the connection was recorded must not be missed.
    let span: QueueSpan | undefined = { consistent: true, sent };
    let handled = 0;
    for (;;) {
      if (span) {
        const report = await deliverQueue(posting, request.userId, request.connectionId, policy, span);
        reports.push(report);
        if (report.connectionGone) break;
      }
      const finish = await deps.connections.finishDrain(request.userId, request.connectionId, handled);
      if (finish.done) break;
      handled = finish.leftToDrain.length;
      const unsent = finish.leftToDrain.filter((id) => !sent.has(id)).sort();
      span = unsent.length > 0 ? { from: unsent[0], consistent: true, sent } : undefined;
    }
  } catch (error) {
    deps.log.warn('drain failed; closing the connection so that it drains again', { connectionId: request.connectionId, error });
    await cutOff(deps, request);
    reports.push({ delivered: 0, frames: 0, dropped: [], connectionGone: true });
  }
  return {
    delivered: reports.reduce((sum, report) => sum + report.delivered, 0),
    frames: reports.reduce((sum, report) => sum + report.frames, 0),
    dropped: reports.flatMap((report) => report.dropped),
    connectionGone: reports.at(-1)?.connectionGone ?? false,
  };
}

function postWhenOpen(deps: DrainDeps, request: DrainRequest): Pick<ConnectionPoster, 'post'> {
  let open = false;
  return {
    async post(connectionId, data) {
      if (open) return deps.poster.post(connectionId, data);
      let waited = 0;
      for (let attempt = 0; ; attempt += 1) {
        if ((await deps.poster.post(connectionId, data)) === 'delivered') {
          open = true;
          return 'delivered';
        }
        const stillRecorded = (await connectionsOf(deps.connections, [request.userId], deps.clock.now())).some(
          (connection) => connection.connectionId === request.connectionId,
        );
        if (!stillRecorded || waited >= openWaitMs) return 'gone';
        const delay = Math.min(25 * 2 ** attempt, 1000);
        await deps.sleep(delay);
        waited += delay;
      }
    },
  };
}
