/** What `GET /v1/stats` reads: the local stack's in-process counters, or CloudWatch on AWS. */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchStatsReader } from '../aws/cloudwatch-stats-reader';
import { withClientPlugins } from '../aws/client-plugins';
import { clock } from '../clock';
import type { StatsReader } from '../admin/stats';
import { fanOutQueueNameEnvVar } from './env';
import { inProcessStats } from './stats';

export function statsReader(): StatsReader {
  const local = inProcessStats();
  if (local) return local;
  return new CloudWatchStatsReader(withClientPlugins(new CloudWatchClient({})), clock, process.env[fanOutQueueNameEnvVar]);
}
