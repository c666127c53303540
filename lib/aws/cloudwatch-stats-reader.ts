/** `GET /v1/stats` on AWS: the counters' metrics summed over a window, in one GetMetricData call a page. */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { StatsResponse } from '../admin-api';
import type { Clock } from '../clock';
import { allStatNames, metricOf, statsFromTotals, statsNamespace, type StatName, type StatsReader } from '../stats';

/** The window summed: a day, so that the console shows recent traffic rather than all time. */
export const statsWindowMs = 24 * 60 * 60 * 1000;

export class CloudWatchStatsReader implements StatsReader {
  constructor(
    private readonly cloudWatch: CloudWatchClient,
    private readonly clock: Clock,
  ) {}

  async read(): Promise<StatsResponse> {
    const end = this.clock.now();
    const start = new Date(end.getTime() - statsWindowMs);
    const queries: MetricDataQuery[] = allStatNames.map((name, i) => {
      const { metricName, dimensions } = metricOf(name);
      return {
        Id: `m${i}`,
        MetricStat: {
          Metric: {
            Namespace: statsNamespace,
            MetricName: metricName,
            Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
          },
          Period: statsWindowMs / 1000,
          Stat: 'Sum',
        },
      };
    });
    const totals = new Map<StatName, number>();
    let nextToken: string | undefined;
    do {
      const page = await this.cloudWatch.send(
        new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ...(nextToken && { NextToken: nextToken }) }),
      );
      for (const result of page.MetricDataResults ?? []) {
        const name = allStatNames[Number(result.Id?.slice(1))];
        if (name === undefined) continue;
        const sum = (result.Values ?? []).reduce((total, value) => total + value, 0);
        totals.set(name, (totals.get(name) ?? 0) + sum);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return statsFromTotals('cloudwatch', start, totals);
  }
}
