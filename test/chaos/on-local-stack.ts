/**
 * The chaos suite on the local stack: the fault mix switched on, the run, and the check that every
 * accepted message is stored (its conversation's history is written with the recipient's copy, before
 * `accepted`, and outlives the ack).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import { historyTable, offlineMessagesTable } from '../../lib/tables';
import { randomSeed, seededRandom } from '../../local/seeded-random';
import type { ChaosTrace } from './trace';
import { faultRules, type FaultInjector, type FaultMix } from '../../local/faults';
import type { LocalStack } from '../../local/stack';
import { formatChaosReport, runChaos, type ChaosOptions, type ChaosReport } from './chaos';

export type ChaosSettings = Pick<ChaosOptions, 'users' | 'messages' | 'meanMsBetweenDrops' | 'skipAckShare' | 'groupShare' | 'stallMs' | 'onProgress'> & {
  faults: FaultMix;
  /** Replays a run's random choices; a new one is drawn, and printed, when unset. */
  seed?: number;
  /** The flight recorder the stack was started with (`plugins: [trace.plugin]`), to explain a failure. */
  trace?: ChaosTrace;
};

export async function runChaosOnStack(
  stack: LocalStack,
  injector: FaultInjector,
  settings: ChaosSettings,
): Promise<{ report: ChaosReport; table: string }> {
  const { faults, seed = randomSeed(), trace, ...run } = settings;
  const random = seededRandom(seed);
  injector.random = seededRandom(seed + 1);
  const stops = faultRules(faults).map((rule) => injector.inject(rule));
  trace?.watch(stack.gateway);
  let report: ChaosReport;
  try {
    report = await runChaos({
      ...run,
      random,
      explainLoss: async (recipient, id) => [
        ...(trace?.explain(recipient, id) ?? ['  (no flight recorder: start the stack with plugins: [trace.plugin])']),
        `  at the end: ${(await stillQueued(stack, recipient, id)) ? 'still in the queue (the final sync did not deliver it)' : 'not in the queue'}`,
      ],
      wsUrl: stack.wsUrl,
      token: (userId) => stack.issueToken(userId),
      runId: `chaos${Date.now().toString(36)}`,
      storedIds: () => historyIds(stack),
      createGroup: (groupId, members) => putGroup(stack, groupId, members),
    });
  } catch (error) {
    // A run that ran out of time or threw still says how to replay it.
    throw new Error(`the chaos run with seed ${seed} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    for (const stop of stops) stop();
  }
  return { report, table: `seed ${seed}\n${formatChaosReport(report, injector.injected, injector.requests)}` };
}

async function stillQueued(stack: LocalStack, userId: string, id: string): Promise<boolean> {
  const db = localClient(stack);
  const { Item } = await db.send(new GetCommand({ TableName: stack.tableName(offlineMessagesTable), Key: { userId, id }, ConsistentRead: true }));
  db.destroy();
  return Item !== undefined;
}

function localClient(stack: LocalStack): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
}

/** Creates the group through the admin API, trying again after a 5xx: the faults are on already. */
async function putGroup(stack: LocalStack, groupId: string, members: string[]): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${stack.adminUrl}/groups/${groupId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ members }),
    });
    if (response.ok) return;
    if (response.status < 500 || attempt === 20) throw new Error(`could not create group ${groupId}: ${response.status} ${await response.text()}`);
  }
}

async function historyIds(stack: LocalStack): Promise<Set<string>> {
  const db = localClient(stack);
  const ids = new Set<string>();
  for await (const page of paginateScan({ client: db }, { TableName: stack.tableName(historyTable), ProjectionExpression: 'id', ConsistentRead: true })) {
    for (const item of page.Items ?? []) ids.add(item.id as string);
  }
  db.destroy();
  return ids;
}
