/**
 * Delivering a user's queue to one connection: on connect, without being asked, and on `sync`.
 *
 * Before anything is sent, the whole queue is planned: what the client will never see (discarded by a
 * clean start or an expired session, expired, or over a cap) is counted, announced in `dropped`
 * frames, and removed; the rest, only ever the newest N, is delivered oldest first.
 */
import type { Clock } from '../clock';
import { connectionsOf, maxDrainSeconds, replacedFrame, type ConnectionStore, type Discard } from '../connecting/connections';
import { cutOff, FramePacker, type ConnectionPoster, type DeliveryLog } from './push';
import { toWireMessage, type OfflineQueue, type QueuedMessage } from './offline-queue';
import type { DroppedReason } from '../protocol';
import { effectiveExpiry } from '../retention/expiry';
import type { AppSettings, UserSettings } from '../retention/settings';
import type { SettingsReader } from '../retention/settings-reader';

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
 * The sender whose cap (`maxOfflineMessagesPerSender`) a message counts against; none for system
 * messages and what the app's backend sent (`POST /v1/messages`), which come from the app itself and
 * are exempt (SPEC §6). A group message counts against its sender too, so a flood through a group
 * pushes out only that sender's own messages.
 */
function cappedSender(message: QueuedMessage): string | undefined {
  return message.type === 'system' || message.byBackend ? undefined : message.from;
}

/**
 * Decides, message by message, what the client gets. It first observes the whole queue, oldest first,
 * noting each deliverable message's id, group and sender; then, newest first, each cap keeps the
 * newest of what the caps before it left: per group (`groupOfflineMaxMessages`), per sender
 * (`maxOfflineMessagesPerSender`, so no sender can push another's messages out), then over the user's
 * whole queue (`maxOfflineMessages`). Judging then looks each message up by id, so a queue read again
 * for delivery may have gained or lost messages meanwhile.
 */
export class QueuePlan {
  private observed: Array<{ id: string; group: string | undefined; sender: string | undefined }> = [];
  private readonly overflowIds = new Set<string>();
  private deliverable = 0;
  private readonly counts: Record<Exclude<Verdict, 'deliver'>, number> = { overflow: 0, expired: 0, discard: 0 };
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
    this.observed.push({ id: message.id, group: message.type === 'group' ? message.to : undefined, sender: cappedSender(message) });
  }

  /** Call once every message has been observed. */
  finish(): void {
    const { groupOfflineMaxMessages: groupCap, maxOfflineMessagesPerSender: senderCap, maxOfflineMessages: userCap } = this.policy.app;
    const keptPerGroup = new Map<string, number>();
    const keptPerSender = new Map<string, number>();
    let kept = 0;
    for (let i = this.observed.length - 1; i >= 0; i -= 1) {
      const { id, group, sender } = this.observed[i] as (typeof this.observed)[number];
      if (!keep(keptPerGroup, group, groupCap) || !keep(keptPerSender, sender, senderCap) || kept >= userCap) {
        this.overflowIds.add(id);
        continue;
      }
      kept += 1;
    }
    this.deliverable = this.observed.length;
    this.counts.overflow = this.overflowIds.size;
    this.observed = [];
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

  /** Messages past their expiry (not yet removed by TTL), as opposed to discarded with a session. */
  get expiredCount(): number {
    return this.counts.expired;
  }

  /** The messages it would deliver, should the drain run now. */
  get deliverableCount(): number {
    return this.deliverable - this.counts.overflow;
  }

  /** Judges a message, oldest first, as observed. */
  judge(message: QueuedMessage): Verdict {
    if (!this.finished) throw new Error('judge() before finish()');
    const kind = this.kindOf(message);
    if (kind !== 'deliver') return kind;
    return this.overflowIds.has(message.id) ? 'overflow' : 'deliver';
  }

  private kindOf(message: QueuedMessage): Verdict {
    if (this.policy.discard && message.id < this.policy.discard.beforeId) return 'discard';
    if (effectiveExpiry(message, this.policy.app, this.policy.user) <= this.now) return 'expired';
    return 'deliver';
  }
}

/** Counts a message against its group's or sender's cap: false when that cap is already full (null: no cap). */
function keep(kept: Map<string, number>, key: string | undefined, cap: number | null): boolean {
  if (key === undefined || cap === null) return true;
  const count = kept.get(key) ?? 0;
  if (count >= cap) return false;
  kept.set(key, count + 1);
  return true;
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

/** The part of a queue a delivery covers; all of it by default. */
export interface QueueSpan {
  /** Only this message and later ones. */
  from?: string;
  /** Messages an earlier pass of the same drain sent: left out, and those sent now are added. */
  sent?: Set<string>;
}

/** Past this, a queue is read twice rather than held: a Lambda function has memory to spare, not to waste. */
const inMemoryQueueBytes = 4 * 1024 * 1024;

async function* messagesOf(queue: OfflineQueue, userId: string, span: QueueSpan): AsyncIterable<QueuedMessage> {
  for await (const page of queue.pages(userId, span.from)) {
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
): Promise<DeliveryReport> {
  const { plan, messages } = await planQueue(deps, userId, policy, span);
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
  deps: DeliverDeps & OpeningDeps & { settings: SettingsReader },
  caller: { userId: string; connectionId: string },
): Promise<DeliveryReport> {
  // Consistent: the discard was recorded by this very connection's `$connect`, a moment ago.
  const presence = (await deps.connections.lookup([caller.userId], deps.clock.now(), { consistent: true })).get(caller.userId);
  const policy = await queuePolicyFor(deps.settings, caller.userId, presence?.discard);
  // A sync sent the moment the socket opened may find API Gateway still refusing posts: it waits, as the drain does.
  const report = await deliverQueue({ ...deps, poster: { post: whenOpen(deps, caller).post } }, caller.userId, caller.connectionId, policy);
  if (report.connectionGone) throw new Error('the connection went away during sync');
  return report;
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
 * Delivers the queue to a connection that is still opening, as the one drain of that connection.
 *
 * - The drain first claims the connection's drain for this invocation: a repeated event finds it taken
 *   and exits; a late one that finds the window passed with no drain closes the connection, which
 *   has had pushes but never its queue, so that it reconnects and drains in order.
 * - API Gateway refuses posts with 410 until `$connect` has returned, and for a while after, so a 410
 *   means "not yet" as long as the connection is recorded: the first post (or, for an empty queue, a
 *   `GET @connections`) is tried again with backoff. No drain finishes before the socket is open:
 *   a push answered 410 after the drain would forget a live connection.
 * - Until the drain is done, pushes of stored messages leave them to it (see Connection.draining), so
 *   nothing newer overtakes what the drain has yet to send; the drain renews that window while it runs.
 *   When the queue has been sent it finishes, unless messages were left to it meanwhile: then it reads
 *   the queue again from the smallest id left, sends what it has not sent yet, and tries again.
 * - A drain that fails part way, or loses its window, cuts the connection off: the client reconnects
 *   and drains again, rather than carry on with a gap in its queue.
 */
export async function drainOnConnect(
  deps: DrainDeps,
  request: DrainRequest,
  policy: QueuePolicy,
  drainer: string,
): Promise<DeliveryReport> {
  const sent = new Set<string>();
  const reports: DeliveryReport[] = [];
  const none = (connectionGone: boolean): DeliveryReport => ({ delivered: 0, frames: 0, dropped: [], expiredSkipped: 0, connectionGone });
  try {
    const claim = await deps.connections.claimDrain(request.userId, request.connectionId, drainer, deps.clock.now());
    if (claim === 'taken') return none(false);
    if (claim === 'gone') {
      // Closed, or cut off (a push it missed) while its socket was still opening: then it must not open unnoticed.
      await cutOffOnceOpen(deps, request);
      return none(true);
    }
    if (claim === 'missed') {
      deps.log.warn('the drain came too late: closing the connection so that it drains again', { connectionId: request.connectionId });
      await cutOffOnceOpen(deps, request);
      return none(true);
    }
    const window = drainWindow(deps, request, drainer);
    const opening = whenOpen(deps, request);
    const post: ConnectionPoster['post'] = async (connectionId, data) => {
      await window.renew();
      return opening.post(connectionId, data);
    };
    const posting = { ...deps, poster: { post } };
    let span: QueueSpan | undefined = { sent };
    let handled = 0;
    let openWait = openWaitMs;
    for (;;) {
      if (span) {
        const report = await deliverQueue(posting, request.userId, request.connectionId, policy, span);
        reports.push(report);
        if (report.connectionGone) break;
      }
      if (!(await opening.confirm())) {
        reports.push(none(true));
        break;
      }
      await window.renew();
      const finish = await deps.connections.finishDrain(request.userId, request.connectionId, handled);
      if (finish.done && finish.gone) {
        // Forgotten while its drain ran: no push will ever reach it. Its socket was open a moment
        // ago (confirmed above), so a 410 to the close means it has closed: nothing to wait for.
        reports.push(none(true));
        openWait = 0;
        break;
      }
      if (finish.done) break;
      handled = finish.leftCount;
      span = finish.leftFrom === undefined ? undefined : { from: finish.leftFrom, sent };
    }
    // API Gateway said 410 (closed, or never opened in time), or it was forgotten meanwhile: its
    // drain is not done, so no push may reach it should its socket be open after all.
    if (reports.at(-1)?.connectionGone) await cutOffOnceOpen(deps, request, openWait);
  } catch (error) {
    deps.log.warn('drain failed; closing the connection so that it drains again', { connectionId: request.connectionId, error });
    await cutOffOnceOpen(deps, request);
    reports.push(none(true));
  }
  return {
    delivered: reports.reduce((sum, report) => sum + report.delivered, 0),
    frames: reports.reduce((sum, report) => sum + report.frames, 0),
    dropped: reports.flatMap((report) => report.dropped),
    expiredSkipped: reports.reduce((sum, report) => sum + report.expiredSkipped, 0),
    connectionGone: reports.at(-1)?.connectionGone ?? false,
  };
}

/**
 * Cuts the connection off, trying the close again while API Gateway answers 410, up to `openWaitMs`:
 * a connection cut off before its socket opened would otherwise open with no record, and get nothing
 * until its client reconnected. One that has really closed answers 410 all along. One that a newer
 * connection replaced while it was opening (`$connect` could not tell it then) is told `replaced`
 * first, so that its client does not reconnect and replace another in turn.
 */
async function cutOffOnceOpen(deps: DrainDeps, request: DrainRequest, openWait = openWaitMs): Promise<void> {
  const replaced = await deps.connections.wasReplaced(request.userId, request.connectionId, deps.clock.now()).catch(() => false);
  let told = !replaced;
  await whileOpening(
    deps,
    async (tries) => {
      told ||= (await deps.poster.post(request.connectionId, replacedFrame).catch(() => 'gone' as const)) === 'delivered';
      if (!told) return false;
      const closing = tries === 0 ? await cutOff(deps, request) : await deps.poster.close(request.connectionId).catch(() => 'failed' as const);
      return closing !== 'gone';
    },
    undefined,
    openWait,
  );
}

/**
 * Tries `attempt` until it succeeds, pausing longer each time, while the connection may still be
 * opening: up to `budgetMs` in all, and only as long as `worthWaiting` says so.
 */
async function whileOpening(
  deps: Pick<OpeningDeps, 'sleep'>,
  attempt: (tries: number) => Promise<boolean>,
  worthWaiting: () => Promise<boolean> = async () => true,
  budgetMs = openWaitMs,
): Promise<boolean> {
  let waited = 0;
  for (let tries = 0; ; tries += 1) {
    if (await attempt(tries)) return true;
    if (!(await worthWaiting()) || waited >= budgetMs) return false;
    const delay = Math.min(25 * 2 ** tries, 1000);
    await deps.sleep(delay);
    waited += delay;
  }
}

/** Renews the draining window when half of it is gone; throws when it is no longer this drain's. */
function drainWindow(deps: DrainDeps, request: DrainRequest, drainer: string): { renew(): Promise<void> } {
  let renewedAt = deps.clock.now().getTime();
  return {
    async renew() {
      const now = deps.clock.now();
      if (now.getTime() - renewedAt < (maxDrainSeconds * 1000) / 2) return;
      if (!(await deps.connections.extendDrain(request.userId, request.connectionId, drainer, now))) {
        throw new Error('the drain lost its window: pushes may have gone ahead of it');
      }
      renewedAt = now.getTime();
    },
  };
}

interface OpeningDeps {
  poster: Pick<ConnectionPoster, 'post' | 'isOpen'>;
  connections: Pick<ConnectionStore, 'lookup'>;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
}

/**
 * Waits for API Gateway to open the connection: posts retry while it answers 410 and the connection is
 * still recorded, up to `openWaitMs`. `confirm` waits the same way without posting, for a drain that
 * had nothing to send; once one call has got through, the connection is known to be open.
 */
function whenOpen(deps: OpeningDeps, request: Pick<DrainRequest, 'userId' | 'connectionId'>): { post: ConnectionPoster['post']; confirm(): Promise<boolean> } {
  let open = false;
  // Consistent: `$connect` wrote the record a moment ago; a stale read would end the drain unsent.
  const stillRecorded = async () =>
    (await connectionsOf(deps.connections, [request.userId], deps.clock.now(), { consistent: true })).some(
      (connection) => connection.connectionId === request.connectionId,
    );
  const retry = async (attempt: () => Promise<boolean>): Promise<boolean> => (open = await whileOpening(deps, attempt, stillRecorded));
  return {
    async post(connectionId, data) {
      if (open) return deps.poster.post(connectionId, data);
      return (await retry(async () => (await deps.poster.post(connectionId, data)) === 'delivered')) ? 'delivered' : 'gone';
    },
    confirm: async () => open || retry(() => deps.poster.isOpen(request.connectionId)),
  };
}
