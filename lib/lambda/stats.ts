/**
 * The stats counters a function feeds, chosen by `STATS_SOURCE`: `memory` on the local stack (every
 * handler shares its process, so one in-memory instance sees them all), Powertools Metrics otherwise,
 * as on AWS. The reader lives in `stats-reader.ts`, so that counting functions do not bundle the
 * CloudWatch client.
 */
import { PowertoolsStats } from '../aws/powertools-stats';
import { InMemoryStats, type StatsCounters } from '../admin/stats';

export const statsSourceEnvVar = 'STATS_SOURCE';

/** One per process: on the local stack every handler, and the stats route, share this one. */
export const inProcessStats = new InMemoryStats();

export function statsInMemory(): boolean {
  return process.env[statsSourceEnvVar] === 'memory';
}

let powertools: PowertoolsStats | undefined;

export function statsCounters(): StatsCounters {
  if (statsInMemory()) return inProcessStats;
  powertools ??= new PowertoolsStats();
  return powertools;
}
