/**
 * The stats counters a function feeds: Powertools Metrics, as on AWS, unless the local stack has put
 * in its own (every handler shares its process there, so one in-memory instance sees them all, and
 * its stats route reads them). Put in rather than chosen here, so that the Lambda bundles do not carry
 * the in-memory counters. The reader lives in `stats-reader.ts`, so that counting functions do not
 * bundle the CloudWatch client.
 */
import { PowertoolsStats } from '../aws/powertools-stats';
import type { StatsCounters, StatsReader } from '../admin/stats';

let inProcess: (StatsCounters & StatsReader) | undefined;

/** The local stack's counters, for every handler in this process; before they load. */
export function useInProcessStats(stats: StatsCounters & StatsReader): void {
  inProcess = stats;
}

export function inProcessStats(): (StatsCounters & StatsReader) | undefined {
  return inProcess;
}

let powertools: PowertoolsStats | undefined;

export function statsCounters(): StatsCounters {
  if (inProcess) return inProcess;
  powertools ??= new PowertoolsStats();
  return powertools;
}
