/**
 * The service's counters behind `GET /v1/stats` (SPEC §7): connections open, messages accepted,
 * stored, delivered, acked and dropped by reason. Handlers feed them from what the domain already
 * returns (a `sent` reply, a drain report, an ack), so the domain itself counts nothing.
 *
 * Two implementations: in memory, for the local stack, where every handler and the admin API share
 * one Node process (`InMemoryStats`); and CloudWatch metrics on AWS (`lib/aws/cloudwatch-stats.ts`),
 * named by `metricOf` below, the one place where counter names meet metric names.
 */
import type { StatsResponse } from './admin-api';
import { droppedReasons, type DroppedReason, type Reply, type SendFrame } from './protocol';

export type StatName =
  | 'connectionsOpened'
  | 'connectionsClosed'
  | 'messagesAccepted'
  | 'messagesStored'
  | 'messagesDelivered'
  | 'messagesAcked'
  | `messagesDropped.${DroppedReason}`;

/** Where handlers count. `add` never throws and never waits: counting must not fail a request. */
export interface StatsCounters {
  add(name: StatName, n: number): void;
}

export interface StatsReader {
  read(): Promise<StatsResponse>;
}

export const statsNamespace = 'Pigeonhole';

/** The CloudWatch metric a counter is emitted as: one metric per counter, drops by a `Reason` dimension. */
export function metricOf(name: StatName): { metricName: string; dimensions: Record<string, string> } {
  const [base, reason] = name.split('.') as [string, string | undefined];
  const metricName = base.charAt(0).toUpperCase() + base.slice(1);
  return { metricName, dimensions: reason === undefined ? {} : { Reason: reason } };
}

export const allStatNames: readonly StatName[] = [
  'connectionsOpened',
  'connectionsClosed',
  'messagesAccepted',
  'messagesStored',
  'messagesDelivered',
  'messagesAcked',
  ...droppedReasons.map((reason) => `messagesDropped.${reason}` as const),
];

/** The response from a sum of each counter. */
export function statsFromTotals(source: StatsResponse['source'], since: Date, totals: ReadonlyMap<StatName, number>): StatsResponse {
  const total = (name: StatName) => totals.get(name) ?? 0;
  return {
    source,
    since: since.toISOString(),
    // Clamped: on AWS `$disconnect` of a connection opened before the window may fall inside it.
    connectionsOpen: Math.max(0, total('connectionsOpened') - total('connectionsClosed')),
    messages: {
      accepted: total('messagesAccepted'),
      stored: total('messagesStored'),
      delivered: total('messagesDelivered'),
      acked: total('messagesAcked'),
      dropped: Object.fromEntries(droppedReasons.map((reason) => [reason, total(`messagesDropped.${reason}`)])) as Record<DroppedReason, number>,
    },
  };
}

/** Counters since this process started: the local stack's, shared by every handler it runs. */
export class InMemoryStats implements StatsCounters, StatsReader {
  private readonly totals = new Map<StatName, number>();
  private readonly since = new Date();

  add(name: StatName, n: number): void {
    if (n !== 0) this.totals.set(name, (this.totals.get(name) ?? 0) + n);
  }

  read(): Promise<StatsResponse> {
    return Promise.resolve(statsFromTotals('local', this.since, this.totals));
  }
}

/**
 * What a `send` reply tells: one message accepted (a `duplicate` was counted the first time), and,
 * for a qos-1 private message, its one stored copy. A group send's copies are not counted here, as
 * its reply does not say how many members got one; the fan-out worker counts those it stores.
 */
export function countSend(stats: StatsCounters, frame: Pick<SendFrame, 'type' | 'qos'>, reply: Reply): void {
  if (reply.type !== 'sent' || reply.status !== 'accepted') return;
  stats.add('messagesAccepted', 1);
  if (frame.type === 'private' && frame.qos !== 0) stats.add('messagesStored', 1);
}

/** What a drain or a sync delivered and dropped. */
export function countDelivery(stats: StatsCounters, report: { delivered: number; dropped: ReadonlyArray<{ reason: DroppedReason; count: number }> }): void {
  stats.add('messagesDelivered', report.delivered);
  for (const drop of report.dropped) stats.add(`messagesDropped.${drop.reason}`, drop.count);
}
