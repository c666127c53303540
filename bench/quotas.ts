/**
 * The AWS quotas the scale plan (bench/cost.ts) measures a load against, in one place, each with where
 * it comes from and whether it can be raised. The stack's own limits (route throttles, reserved
 * concurrency, memory) are not here: bench/deployment.ts reads them from the synthesized template.
 *
 * As with bench/prices.ts, these were not fetched by the machine that runs the benchmark: they are the
 * defaults in AWS's documentation as known in June 2025, for us-east-1. Check them in Service Quotas
 * for your own account, whose values may differ from the defaults.
 */

export interface Quota {
  value: number;
  /** The burst above `value`, for a token bucket. */
  burst?: number;
  unit: string;
  /** Whether Service Quotas (or a support case) can raise it. */
  adjustable: boolean;
  source: string;
  takenOn: string;
  note?: string;
}

const taken = '2025-06';

export const quotas = {
  newConnections: {
    value: 500,
    unit: 'new WebSocket connections a second, per account and region, across all WebSocket APIs',
    adjustable: true,
    source: 'Amazon API Gateway developer guide, quotas for WebSocket APIs',
    takenOn: taken,
    note: 'a rate without a documented burst: modelled as a bucket holding one second of it',
  },
  accountThrottle: {
    value: 10_000,
    burst: 5_000,
    unit: 'requests a second per account and region, across REST, HTTP and WebSocket APIs and WebSocket callback (@connections) APIs',
    adjustable: true,
    source: 'Amazon API Gateway developer guide, quotas (account-level throttle)',
    takenOn: taken,
  },
  lambdaConcurrency: {
    value: 1_000,
    unit: 'concurrent Lambda executions per account and region (a new account may start far lower)',
    adjustable: true,
    source: 'AWS Lambda developer guide, quotas (concurrent executions)',
    takenOn: taken,
    note: 'AWS keeps 100 of them unreserved',
  },
  lambdaScaling: {
    value: 1_000,
    unit: 'execution environments each function may add every 10 seconds',
    adjustable: false,
    source: 'AWS Lambda developer guide, scaling behaviour',
    takenOn: taken,
  },
  partitionWrites: {
    value: 1_000,
    unit: 'write units a second per DynamoDB partition (one partition key value is on one partition)',
    adjustable: false,
    source: 'Amazon DynamoDB developer guide, partitions and data distribution',
    takenOn: taken,
  },
  partitionReads: {
    value: 3_000,
    unit: 'read units a second per DynamoDB partition',
    adjustable: false,
    source: 'Amazon DynamoDB developer guide, partitions and data distribution',
    takenOn: taken,
  },
  tableWrites: {
    value: 40_000,
    unit: 'write request units a second per on-demand table',
    adjustable: true,
    source: 'Amazon DynamoDB developer guide, service quotas (throughput per table)',
    takenOn: taken,
    note: 'a new on-demand table takes about 4,000 writes a second at once and doubles past its previous peak within 30 minutes; warm throughput can be set ahead',
  },
  tableReads: {
    value: 40_000,
    unit: 'read request units a second per on-demand table',
    adjustable: true,
    source: 'Amazon DynamoDB developer guide, service quotas (throughput per table)',
    takenOn: taken,
    note: 'a new on-demand table takes about 12,000 reads a second at once',
  },
  putEvents: {
    value: 10_000,
    unit: 'EventBridge PutEvents requests a second in us-east-1 (each up to 10 entries)',
    adjustable: true,
    source: 'Amazon EventBridge user guide, quotas (PutEvents)',
    takenOn: taken,
    note: 'lower in smaller regions',
  },
} as const satisfies Record<string, Quota>;
