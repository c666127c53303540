/**
 * A message to a 1,000-member group with every member offline: how many DynamoDB requests and units
 * the send takes, and how long until every copy is stored (the `sent` reply: up to 1,000 recipients
 * the fan-out is done before it). Times are medians of several runs.
 */
import { randomUUID } from 'node:crypto';
import { bodyOfBytes, connect, median, progress, report, round, startBenchStack } from './support';

const members = 1000;
const runs = 5;

async function main(): Promise<void> {
  const { stack, meter } = await startBenchStack({ settingsCacheSeconds: 60 });
  try {
    const senderId = `lead-${randomUUID().slice(0, 8)}`;
    const groupId = `all-hands-${randomUUID().slice(0, 8)}`;
    const memberIds = Array.from({ length: members }, (_, i) => `${senderId}-m${String(i).padStart(4, '0')}`);
    await fetch(`${stack.adminUrl}/groups/${groupId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ members: [senderId, ...memberIds] }),
    });
    const sender = await connect(stack, senderId);
    // One send first, to warm the settings cache as a warm Lambda has it.
    await sender.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body: 'warm-up' });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const samples: Array<{ ms: number; requests: number; writeUnits: number; readUnits: number; byCommand: Record<string, number> }> = [];
    const bar = progress('fan-out runs', runs);
    for (let i = 0; i < runs; i += 1) {
      meter.take();
      const started = performance.now();
      const reply = await sender.request({ action: 'send', type: 'group', target: groupId, clientMsgId: randomUUID(), body: bodyOfBytes(200) });
      const ms = performance.now() - started;
      if (reply.status !== 'accepted') throw new Error(`send failed: ${JSON.stringify(reply)}`);
      const metered = meter.take();
      samples.push({ ms, requests: metered.requests, writeUnits: metered.writeUnits, readUnits: metered.readUnits, byCommand: metered.byCommand });
      bar.tick();
    }
    bar.done();
    await sender.close();

    const requests = median(samples.map((s) => s.requests));
    report({
      name: 'fan-out',
      title: 'Fan-out to a 1,000-member group, all offline',
      tables: [
        {
          title: `One group message, 200-byte body (median of ${runs} runs)`,
          columns: ['DynamoDB requests', 'by command', 'write units', 'read units', 'ms until every copy is stored'],
          rows: [
            [
              requests,
              Object.entries(samples[0]?.byCommand ?? {})
                .map(([command, count]) => `${command.replace('Command', '')} ${count}`)
                .join(', '),
              round(median(samples.map((s) => s.writeUnits))),
              round(median(samples.map((s) => s.readUnits)), 2),
              round(median(samples.map((s) => s.ms)), 1),
            ],
          ],
        },
      ],
      targets: [{ what: 'DynamoDB requests for one message to 1,000 offline members', target: '≤ 100', measured: String(requests), met: requests <= 100 }],
      notes: [
        'Copies go 25 to a BatchWriteItem (40 requests for 1,000); the members are one Query; their connections are looked up 100 to a BatchGetItem (10 requests). Write units are one per copy of up to 1 KB, plus the history item and the receipt.',
      ],
    });
  } finally {
    await stack.stop();
  }
}

await main();
