/**
 * The stats counters on AWS, through Powertools Metrics: each count is a CloudWatch Embedded Metric
 * Format line on stdout, which Lambda's log agent turns into a metric in the `Pigeonhole` namespace
 * (dimension `service`, and `Reason` for drops), with no API call and no IAM grant on the request path.
 *
 * Each count is published as it is added (`singleMetric`): a handler that fails or times out half-way
 * has still counted what it did, and no handler needs a flushing middleware.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { metricOf, statsNamespace, statsService, type StatName, type StatsCounters } from '../admin/stats';

export class PowertoolsStats implements StatsCounters {
  constructor(private readonly metrics: Metrics = new Metrics({ namespace: statsNamespace, serviceName: statsService, singleMetric: true })) {}

  add(name: StatName, n: number): void {
    const metric = metricOf(name);
    if (n === 0 && !metric.sample) return;
    try {
      // Dimensions are cleared by each publish, so they apply to this one metric only.
      for (const [key, value] of Object.entries(metric.dimensions)) this.metrics.addDimension(key, value);
      this.metrics.addMetric(metric.metricName, MetricUnit[metric.unit], n);
    } catch {
      // Counting never fails a request (an invalid value is Powertools' to refuse, not the caller's).
    }
  }
}
