/**
 * `npm run smoke -- --ws <WebSocketUrl> --admin <AdminApiUrl>`: the smoke scenario (smoke/scenario.ts)
 * against a deployment, with the URLs `cdk deploy` prints. Admin calls are signed with the standard
 * AWS credential chain for an `*.amazonaws.com` endpoint (or with --sigv4); locally they carry the
 * key in PIGEONHOLE_ADMIN_KEY. Exits 0 when everything held, 1 when anything did not.
 */
import { parseArgs } from 'node:util';
import { AdminClient, AdminSetupError, adminAuthFor } from '../cli/admin-client';
import { report, runSmoke } from './scenario';

const usage = `Usage: npm run smoke -- --ws <WebSocketUrl> --admin <AdminApiUrl> [--sigv4] [--region <region>]

Runs a short scenario against a deployment and prints what held: two users, an offline
message, its drain on connect, its ack, a setting changed through the admin API, a group
message. Use the WebSocketUrl and AdminApiUrl that \`cdk deploy\` prints.

  --ws <url>         the WebSocket URL (wss://…/live, or ws://127.0.0.1:3001 for npm start)
  --admin <url>      the admin API URL (https://…/v1, or http://127.0.0.1:3002/v1)
  --sigv4            sign admin calls with your AWS credentials (the default for *.amazonaws.com)
  --region <region>  the region to sign for (default: from the URL, else $AWS_REGION)
  --timeout <ms>     how long to wait for each answer (default 15000)

Locally the admin key comes from $PIGEONHOLE_ADMIN_KEY (npm start prints it).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      ws: { type: 'string' },
      admin: { type: 'string' },
      sigv4: { type: 'boolean', default: false },
      region: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.ws || !values.admin) {
    console.error(`give both --ws and --admin\n\n${usage}`);
    return 2;
  }
  const timeoutMs = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    console.error(`--timeout must be a whole number of milliseconds, not '${values.timeout ?? ''}'`);
    return 2;
  }
  let admin: AdminClient;
  try {
    admin = new AdminClient(values.admin, adminAuthFor(values.admin, { sigv4: values.sigv4, ...(values.region && { region: values.region }) }));
  } catch (error) {
    if (!(error instanceof AdminSetupError)) throw error;
    console.error(error.message);
    return 2;
  }
  const checks = await runSmoke({ wsUrl: values.ws, admin, ...(timeoutMs && { timeoutMs }) });
  console.log(report(values.ws, checks));
  return checks.every((check) => check.held) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).message);
    process.exit(2);
  },
);
