/**
 * The stats counters on AWS: each count is a CloudWatch Embedded Metric Format line on stdout, which
 * Lambda's log agent turns into a metric in the `Pigeonhole` namespace, with no API call and no IAM
 * grant on the request path. A later switch to Powertools Metrics must emit the same names (`metricOf`).
 */
import { metricOf, statsNamespace, type StatName, type StatsCounters } from '../stats';

export class EmbeddedMetricStats implements StatsCounters {
  constructor(private readonly write: (line: string) => void = (line) => void process.stdout.write(line)) {}

  add(name: StatName, n: number): void {
    if (n === 0) return;
    const { metricName, dimensions } = metricOf(name);
    const line = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: statsNamespace, Dimensions: [Object.keys(dimensions)], Metrics: [{ Name: metricName, Unit: 'Count' }] },
        ],
      },
      ...dimensions,
      [metricName]: n,
    };
    this.write(`${JSON.stringify(line)}\n`);
  }
}
