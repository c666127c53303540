/**
 * `npm run test:load`: 1,000 connections held for 60 s on a local stack of its own, on loopback, with
 * pings and light traffic. Prints what it measured, memory included; exits non-zero on any error.
 */
import { parseArgs } from 'node:util';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { startLocalStack } from '../../local/stack';
import { formatLoadReport, memorySampler, runLoad } from './load';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '60' },
    'messages-per-second': { type: 'string', default: '20' },
  },
});
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';

const connections = Number(values.connections);
const seconds = Number(values.seconds);
console.log(`Load: ${connections} connections held for ${seconds} s, each pinging every ~10 s, ${values['messages-per-second']} messages a second among them.`);
const dynamodb = await startDynamoDbLocal();
const stack = await startLocalStack({ wsPort: 0, adminPort: 0, dynamodbEndpoint: dynamodb.endpoint });
let failed = true;
try {
  const report = await runLoad({
    wsUrl: stack.wsUrl,
    token: (userId) => stack.issueToken(userId),
    runId: `load${Date.now().toString(36)}`,
    connections,
    holdMs: seconds * 1000,
    pingEveryMs: 10_000,
    messagesPerSecond: Number(values['messages-per-second']),
    openConcurrency: 50,
    sampleMemory: memorySampler(dynamodb.pid),
    onProgress: (line) => console.error(`  ${line}`),
  });
  console.log(`\n${formatLoadReport(report)}\n`);
  failed = report.errors.length > 0 || report.connections !== connections;
  console.log(failed ? 'FAILED: see above.' : 'No errors.');
} finally {
  await stack.stop();
  await dynamodb.stop();
}
process.exit(failed ? 1 : 0);
