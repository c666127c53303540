/**
 * The service's counters: behind `GET /v1/stats` (SPEC §7) and, on AWS, the CloudWatch metrics that
 * the alarms and the dashboard watch. Handlers feed them from what the domain already returns (a
 * `sent` reply, a drain report, an ack), so the domain itself counts little: only what only it knows
 * (copies stored by a fan-out, pushes, events emitted).
 *
 * Two implementations: in memory, for the local stack, where every handler and the admin API share
 * one Node process (`InMemoryStats`); and Powertools Metrics on AWS (`lib/aws/powertools-stats.ts`),
 * as Embedded Metric Format lines in the `Pigeonhole` namespace. `statDeclarations` below is the one
 * place where counter names meet metric names and units.
 */
import type { StatsResponse } from './admin-api';
import { ConflictError, RateLimitedError } from '../errors';
import { droppedReasons, type DroppedReason, type Reply, type SendFrame } from '../protocol';

interface StatDeclaration {
  metricName: string;
  /** `Count` for counters; a sample of a distribution has its own unit (CloudWatch keeps percentiles of those). */
  unit: 'Count' | 'Milliseconds';
  /** A sample is emitted even when 0 (a drain of nothing is a drain); a counter of 0 is not emitted. */
  sample?: boolean;
}

const statDeclarations = {
  connectionsOpened: { metricName: 'ConnectionsOpened', unit: 'Count' },
  connectionsClosed: { metricName: 'ConnectionsClosed', unit: 'Count' },
  /** Sends answered `accepted` (a `duplicate` was counted the first time). */
  messagesAccepted: { metricName: 'MessagesAccepted', unit: 'Count' },
  /** Copies written to offline queues, one per recipient. */
  messagesStored: { metricName: 'MessagesStored', unit: 'Count' },
  /** Posts of a message to an open connection, one per connection (a push is not a delivery). */
  messagesPushed: { metricName: 'MessagesPushed', unit: 'Count' },
  /** Copies sent by a drain or a sync. */
  messagesDelivered: { metricName: 'MessagesDelivered', unit: 'Count' },
  messagesAcked: { metricName: 'MessagesAcked', unit: 'Count' },
  /** Sends answered `duplicate`: a resend of a message already accepted. */
  messagesDuplicate: { metricName: 'MessagesDuplicate', unit: 'Count' },
  /** Sends refused with CONFLICT: a clientMsgId reused for another message. */
  messagesConflict: { metricName: 'MessagesConflict', unit: 'Count' },
  /** Sends refused with RATE_LIMITED. */
  messagesRateLimited: { metricName: 'MessagesRateLimited', unit: 'Count' },
  /** Stored copies a drain or sync found past their expiry (not yet removed by TTL) and skipped. */
  messagesExpiredSkipped: { metricName: 'MessagesExpiredSkipped', unit: 'Count' },
  drains: { metricName: 'Drains', unit: 'Count' },
  /** Per drain: messages it delivered. */
  drainSize: { metricName: 'DrainSize', unit: 'Count', sample: true },
  /** Per drain: from its start to its last post. */
  drainDurationMs: { metricName: 'DrainDuration', unit: 'Milliseconds', sample: true },
  /** Per fan-out job: how long it waited in the queue before the worker took it (the backlog, in time). */
  fanOutJobWaitMs: { metricName: 'FanOutJobWait', unit: 'Milliseconds', sample: true },
  /** `OfflineMessageStored` events the bus accepted (SPEC §12). */
  offlineEventsEmitted: { metricName: 'OfflineEventsEmitted', unit: 'Count' },
  /** Events that could not be put on the bus in time, after a retry: dropped (see lib/events/offline-events.ts). */
  offlineEventsFailed: { metricName: 'OfflineEventsFailed', unit: 'Count' },
  ...(Object.fromEntries(
    droppedReasons.map((reason) => [`messagesDropped.${reason}`, { metricName: 'MessagesDropped', unit: 'Count' }]),
  ) as Record<`messagesDropped.${DroppedReason}`, StatDeclaration>),
} as const satisfies Record<string, StatDeclaration>;

export type StatName = keyof typeof statDeclarations;

/** Where handlers count. `add` never throws and never waits: counting must not fail a request. */
export interface StatsCounters {
  add(name: StatName, n: number): void;
}

export interface StatsReader {
  read(): Promise<StatsResponse>;
}

export const statsNamespace = 'Pigeonhole';
/** Powertools' `service` dimension, on every metric. */
export const statsService = 'pigeonhole';

export interface MetricOf {
  metricName: string;
  unit: StatDeclaration['unit'];
  /** Besides `service`: drops carry their `Reason`. */
  dimensions: Record<string, string>;
  sample: boolean;
}

/** The CloudWatch metric a counter is emitted as: one metric per counter, drops by a `Reason` dimension. */
export function metricOf(name: StatName): MetricOf {
  const declaration: StatDeclaration = statDeclarations[name];
  const reason = name.startsWith('messagesDropped.') ? name.slice('messagesDropped.'.length) : undefined;
  return {
    metricName: declaration.metricName,
    unit: declaration.unit,
    dimensions: reason === undefined ? {} : { Reason: reason },
    sample: declaration.sample ?? false,
  };
}

export const allStatNames = Object.keys(statDeclarations) as readonly StatName[];

/** The response from a sum of each counter, and the fan-out backlog as it is now (null when unknown). */
export function statsFromTotals(
  source: StatsResponse['source'],
  since: Date,
  totals: ReadonlyMap<StatName, number>,
  fanOutBacklog: number | null,
): StatsResponse {
  const total = (name: StatName) => totals.get(name) ?? 0;
  const drains = total('drains');
  return {
    source,
    since: since.toISOString(),
    // Clamped: on AWS `$disconnect` of a connection opened before the window may fall inside it.
    connectionsOpen: Math.max(0, total('connectionsOpened') - total('connectionsClosed')),
    messages: {
      accepted: total('messagesAccepted'),
      stored: total('messagesStored'),
      pushed: total('messagesPushed'),
      delivered: total('messagesDelivered'),
      acked: total('messagesAcked'),
      duplicates: total('messagesDuplicate'),
      conflicts: total('messagesConflict'),
      rateLimited: total('messagesRateLimited'),
      expiredSkipped: total('messagesExpiredSkipped'),
      dropped: Object.fromEntries(droppedReasons.map((reason) => [reason, total(`messagesDropped.${reason}`)])) as Record<DroppedReason, number>,
    },
    drains: {
      count: drains,
      averageSize: drains === 0 ? 0 : round(total('drainSize') / drains),
      averageMs: drains === 0 ? 0 : round(total('drainDurationMs') / drains),
    },
    offlineEvents: { emitted: total('offlineEventsEmitted'), failed: total('offlineEventsFailed') },
    fanOut: { backlog: fanOutBacklog },
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Counters since this process started: the local stack's, shared by every handler it runs. */
export class InMemoryStats implements StatsCounters, StatsReader {
  private readonly totals = new Map<StatName, number>();
  private readonly since = new Date();
  /** Fan-out jobs queued or being worked on: the local stack points this at its queue. */
  fanOutBacklog: (() => number) | undefined;

  add(name: StatName, n: number): void {
    if (n !== 0 || metricOf(name).sample) this.totals.set(name, (this.totals.get(name) ?? 0) + n);
  }

  read(): Promise<StatsResponse> {
    return Promise.resolve(statsFromTotals('local', this.since, this.totals, this.fanOutBacklog?.() ?? null));
  }
}

/**
 * What a send ended as: `accepted`, or `duplicate` (a resend of a message accepted before), as
 * `statusOf` reads it from the result; CONFLICT and RATE_LIMITED when it throws them, thrown on.
 */
export async function countedOutcome<R>(
  stats: StatsCounters,
  send: () => Promise<R>,
  statusOf: (result: R) => 'accepted' | 'duplicate' | undefined,
): Promise<R> {
  let result: R;
  try {
    result = await send();
  } catch (error) {
    if (error instanceof ConflictError) stats.add('messagesConflict', 1);
    else if (error instanceof RateLimitedError) stats.add('messagesRateLimited', 1);
    throw error;
  }
  const status = statusOf(result);
  if (status !== undefined) stats.add(status === 'accepted' ? 'messagesAccepted' : 'messagesDuplicate', 1);
  return result;
}

/**
 * A `send` (a client's, or the backend's on a user's behalf), counted as countedOutcome says, and for
 * an accepted qos-1 private message its one stored copy. A group send's copies are not counted here,
 * as its reply does not say how many members got one: the fan-out counts those it stores.
 */
export async function countedSend(stats: StatsCounters, frame: Pick<SendFrame, 'type' | 'qos'>, send: () => Promise<Reply>): Promise<Reply> {
  const reply = await countedOutcome(stats, send, (result) => (result.type === 'sent' ? result.status : undefined));
  if (reply.type === 'sent' && reply.status === 'accepted' && frame.type === 'private' && frame.qos !== 0) stats.add('messagesStored', 1);
  return reply;
}

/** What a drain or a sync delivered, dropped and skipped as expired. */
export function countDelivery(
  stats: StatsCounters,
  report: { delivered: number; expiredSkipped: number; dropped: ReadonlyArray<{ reason: DroppedReason; count: number }> },
): void {
  stats.add('messagesDelivered', report.delivered);
  stats.add('messagesExpiredSkipped', report.expiredSkipped);
  for (const drop of report.dropped) stats.add(`messagesDropped.${drop.reason}`, drop.count);
}

/** A drain's own figures, besides what it delivered: one drain, its size and how long it took. */
export function countDrain(stats: StatsCounters, report: { delivered: number }, durationMs: number): void {
  stats.add('drains', 1);
  stats.add('drainSize', report.delivered);
  stats.add('drainDurationMs', Math.round(durationMs));
}
