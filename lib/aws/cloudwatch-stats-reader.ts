/**
 * `GET /v1/stats` on AWS: the counters' metrics summed over a window, and the fan-out queue's depth
 * as SQS last reported it, in one GetMetricData call a page.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { StatsResponse } from '../admin/admin-api';
import type { Clock } from '../clock';
import { allStatNames, metricOf, statsFromTotals, statsNamespace, statsService, type StatName, type StatsReader } from '../admin/stats';

/** The window summed: a day, so that the console shows recent traffic rather than all time. */
export const statsWindowMs = 24 * 60 * 60 * 1000;
/** SQS reports queue depth every minute; the latest point within this is the backlog now. */
const backlogWindowMs = 15 * 60 * 1000;

export class CloudWatchStatsReader implements StatsReader {
  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly clock: Clock,
    /** The fan-out queue's name, for its depth (AWS/SQS metrics); without it the backlog is null. */
    private readonly fanOutQueueName?: string,
  ) {}

  async read(): Promise<StatsResponse> {
    const end = this.clock.now();
    const start = new Date(end.getTime() - statsWindowMs);
    const sums = this.sumQueries();
    const backlog = this.backlogQueries();
    const totals = new Map<StatName, number>();
    const depths = new Map<string, number>();
    let nextToken: string | undefined;
    do {
      const page = await this.cloudWatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: [...sums, ...backlog],
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampDescending',
          ...(nextToken && { NextToken: nextToken }),
        }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const id = result.Id ?? '';
        if (id.startsWith('q')) {
          // Newest first: the first point of each is the latest. SQS stops reporting an idle queue: an
          // old point, or none, is an empty queue.
          const [latest, at] = [result.Values?.[0], result.Timestamps?.[0]];
          if (!depths.has(id)) depths.set(id, latest !== undefined && at !== undefined && at.getTime() >= end.getTime() - backlogWindowMs ? latest : 0);
          continue;
        }
        const name = allStatNames[Number(id.slice(1))];
        if (name === undefined) continue;
        const sum = (result.Values ?? []).reduce((total, value) => total + value, 0);
        totals.set(name, (totals.get(name) ?? 0) + sum);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    const fanOutBacklog = this.fanOutQueueName === undefined ? null : [...depths.values()].reduce((sum, depth) => sum + depth, 0);
    return statsFromTotals('cloudwatch', start, totals, fanOutBacklog);
  }

  private sumQueries(): MetricDataQuery[] {
    return allStatNames.map((name, i) => {
      const { metricName, dimensions } = metricOf(name);
      return {
        Id: `m${i}`,
        MetricStat: {
          Metric: {
            Namespace: statsNamespace,
            MetricName: metricName,
            Dimensions: Object.entries({ service: statsService, ...dimensions }).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: statsWindowMs / 1000,
          Stat: 'Sum',
        },
      };
    });
  }

  /** Jobs waiting and jobs being worked on: together, what the fan-out has yet to finish. */
  private backlogQueries(): MetricDataQuery[] {
    if (this.fanOutQueueName === undefined) return [];
    return ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible'].map((metricName, i) => ({
      Id: `q${i}`,
      MetricStat: {
        Metric: { Namespace: 'AWS/SQS', MetricName: metricName, Dimensions: [{ Name: 'QueueName', Value: this.fanOutQueueName }] },
        Period: 60,
        Stat: 'Maximum',
      },
    }));
  }
}
