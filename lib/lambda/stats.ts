/**
 * The stats counters a function feeds, chosen by `STATS_SOURCE`: `memory` on the local stack (every
 * handler shares its process, so one in-memory instance sees them all), CloudWatch metrics otherwise,
 * as on AWS. The reader lives in `stats-reader.ts`, so that counting functions do not bundle the
 * CloudWatch client.
 */
import { EmbeddedMetricStats } from '../aws/embedded-metric-stats';
import { InMemoryStats, type StatsCounters } from '../stats';

export const statsSourceEnvVar = 'STATS_SOURCE';

/** One per process: on the local stack every handler, and the stats route, share this one. */
export const inProcessStats = new InMemoryStats();

export function statsInMemory(): boolean {
  return process.env[statsSourceEnvVar] === 'memory';
}

export function statsCounters(): StatsCounters {
  return statsInMemory() ? inProcessStats : new EmbeddedMetricStats();
}
