/**
 * `npm run test:chaos`: the full chaos run on a local stack of its own (DynamoDB Local in memory),
 * 20 users and 5,000 qos-1 messages with 5 % of DynamoDB requests and of `@connections` posts failing.
 * Prints the tally; exits non-zero if a message was lost, arrived out of order, or was accepted
 * without being stored.
 */
import { parseArgs } from 'node:util';
import { progress } from '../../bench/support';
import { awsTiming, describeAwsTiming } from '../../local/aws-timing';
import { FaultInjector, describeFaultMix, parseFaultMix } from '../../local/faults';
import { startLocalStack } from '../../local/stack';
import { runChaosOnStack } from './on-local-stack';
import { ChaosTrace } from './trace';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '20' },
    messages: { type: 'string', default: '5000' },
    faults: { type: 'string', default: 'dynamodb=0.05,connections=0.05' },
    'drop-every-ms': { type: 'string', default: '1500' },
    'skip-ack': { type: 'string', default: '0.2' },
    groups: { type: 'string', default: '0.2' },
    seed: { type: 'string' },
    'aws-timing': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const users = Number(values.users);
const messages = Number(values.messages);
const faults = parseFaultMix(values.faults);
const timing = values['aws-timing'] ? awsTiming() : undefined;
// Every injected fault is logged as a warning by the handlers; the tally says what happened.
if (!values.verbose) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

console.log(
  `Chaos: ${users} users, ${messages} qos-1 messages (${Number(values.groups) * 100} % to groups); sockets drop every ${values['drop-every-ms']} ms on average per user, ` +
    `${Number(values['skip-ack']) * 100} % of message frames go unacked; faults: ${describeFaultMix(faults)}.` +
    (timing ? ` AWS timing: ${describeAwsTiming(timing)}.` : ''),
);
const injector = new FaultInjector();
const trace = new ChaosTrace();
const stack = await startLocalStack({ wsPort: 0, adminPort: 0, faults: injector, plugins: [trace.plugin], ...timing });
let failed = true;
try {
  const accepted = progress('accepted', messages);
  let last = 0;
  const { report, table } = await runChaosOnStack(stack, injector, {
    trace,
    users,
    messages,
    meanMsBetweenDrops: Number(values['drop-every-ms']),
    skipAckShare: Number(values['skip-ack']),
    groupShare: Number(values.groups),
    stallMs: 2 * 60 * 1000,
    faults,
    ...(values.seed !== undefined && { seed: Number(values.seed) }),
    onProgress: (count) => {
      accepted.tick(count - last);
      last = count;
    },
  });
  accepted.done();
  console.log(`\n${table}\n`);
  for (const line of report.details) console.log(line);
  failed =
    report.lost > 0 || report.outOfOrder > 0 || report.acceptedNotStored !== 0 || report.unacceptedDeliveries > 0 || report.accepted !== messages;
  console.log(
    failed
      ? 'FAILED: see above; `--seed` with the seed printed replays the run’s choices.'
      : 'Nothing lost, nothing out of order, nothing accepted without being stored, no copy under an id no sender was told.',
  );
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
