/**
 * `npm start` as a newcomer meets it: the whole service from one command, with its own DynamoDB Local,
 * usable with the token it prints, and gone without a trace on Ctrl-C or SIGTERM.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TestClient } from '../support/client';

interface Started {
  child: ChildProcess;
  output: () => string;
  wsUrl: string;
  dynamoPort: number;
  aliceToken: string;
  bobToken: string;
}

/** DynamoDB Local's JVM and the stack start in 5–15 s alone, and well past 30 s beside the chaos suite on two cores. */
const startTimeoutMs = 60_000;

/** Runs `npm start` in a process group of its own, as a terminal would, and waits for its banner. */
async function npmStart(args: string[] = [], env: Record<string, string> = {}): Promise<Started> {
  const child = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    detached: true,
    env: { ...process.env, PIGEONHOLE_WS_PORT: '0', PIGEONHOLE_ADMIN_PORT: '0', PIGEONHOLE_DATA_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${startTimeoutMs / 1000} s:\n${output}`)), startTimeoutMs);
    const check = () => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${output}`)));
  });
  const field = (pattern: RegExp) => {
    const match = pattern.exec(output);
    if (!match?.[1]) throw new Error(`${pattern} not in the banner:\n${output}`);
    return match[1];
  };
  return {
    child,
    output: () => output,
    wsUrl: field(/WebSocket\s+(ws:\/\/\S+)/),
    dynamoPort: Number(field(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/)),
    aliceToken: field(/alice\s+(\S+)/),
    bobToken: field(/bob\s+(\S+)/),
  };
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exited(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Waits until the process group is empty and DynamoDB Local's port is gone. There is no event for
 * "every process of a group has exited", so this looks every 100 ms, up to a bound.
 */
async function leftoversAfterStopping(group: number, dynamoPort: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (leftovers(group, dynamoPort).length === 0 && !(await portAnswers(dynamoPort))) return [];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return leftovers(group, dynamoPort);
}

/** Processes still alive in the group, and any DynamoDB Local still serving the port. */
function leftovers(group: number, dynamoPort: number): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .filter((line) => {
      const [, pgid] = line.trim().split(/\s+/);
      return Number(pgid) === group || line.includes(`-port ${dynamoPort}`);
    })
    .map((line) => line.trim());
}

/** Cleans up after a failed test, so that it cannot leave a server running. */
function killGroup(group: number, dynamoPort: number): void {
  for (const line of leftovers(group, dynamoPort)) {
    const pid = Number(line.split(/\s+/)[0]);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('serves a usable WebSocket API with the token it prints, and Ctrl-C leaves no process behind', async () => {
    const started = await npmStart();
    const group = started.child.pid as number;
    try {
      expect(started.output()).toMatch(/Admin key\s+ph_\S+/);
      // The console's URL opens signed in: the key travels in the fragment, which is never sent.
      const consoleUrl = /Console\s+(http:\/\/127\.0\.0\.1:\d+\/#key=ph_\S+)/.exec(started.output())?.[1];
      expect(consoleUrl).toBeDefined();
      const page = await fetch(new URL(consoleUrl ?? '').origin);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('app.js');
      expect(started.output()).toMatch(/bob\s+\S+\.\S+\.\S+/);
      const client = await TestClient.connect(`${started.wsUrl}/?token=${started.aliceToken}`);
      expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
      const closedByServer = client.closed;

      process.kill(-group, 'SIGINT'); // what Ctrl-C does: the whole foreground group
      // npm's own status after Ctrl-C depends on which process handles the signal first (0, 130 or
      // killed by it); what matters is that the service stops in order and leaves nothing behind.
      await exited(started.child);
      expect((await closedByServer).code).toBe(1001);
      expect(await leftoversAfterStopping(group, started.dynamoPort)).toEqual([]);
      expect(started.output()).toContain('SIGINT: stopping');
    } finally {
      killGroup(group, started.dynamoPort);
    }
  }, 120_000);

  it('stops the same way on SIGTERM sent to npm alone', async () => {
    const started = await npmStart();
    const group = started.child.pid as number;
    try {
      started.child.kill('SIGTERM');
      // npm hands the signal to the service (the start script execs it) and waits for it to stop.
      expect(await exited(started.child)).toEqual({ code: 0, signal: null });
      expect(await leftoversAfterStopping(group, started.dynamoPort)).toEqual([]);
      expect(started.output()).toContain('SIGTERM: stopping');
    } finally {
      killGroup(group, started.dynamoPort);
    }
  }, 120_000);

  it('keeps queued messages, the admin key and the token secret across a restart with --data-dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pigeonhole-data-'));
    const env = {};
    const adminKeyOf = (output: string) => /Admin key\s+(ph_\S+)/.exec(output)?.[1];
    try {
      const first = await npmStart(['--data-dir', dataDir], env);
      expect(first.output()).toContain(`on disk in ${dataDir}`);
      const alice = await TestClient.connect(`${first.wsUrl}/?token=${first.aliceToken}`);
      const sent = [];
      for (const body of ['one', 'two', 'still here?']) {
        sent.push(await alice.request({ action: 'send', type: 'private', target: 'bob', clientMsgId: `kept-${body}`, body }));
      }
      for (const reply of sent) expect(reply).toMatchObject({ status: 'accepted' });
      first.child.kill('SIGTERM');
      await exited(first.child);
      expect(await leftoversAfterStopping(first.child.pid as number, first.dynamoPort)).toEqual([]);

      // An admin key given in the environment wins over the kept one, and is not written down.
      const givenKey = `ph_given${Date.now()}`;
      const second = await npmStart(['--data-dir', dataDir], { ...env, PIGEONHOLE_ADMIN_KEY: givenKey });
      try {
        expect(adminKeyOf(second.output())).toBe(givenKey);
        const kept = JSON.parse(readFileSync(join(dataDir, 'pigeonhole-secrets.json'), 'utf8')) as { adminKey: string };
        expect(kept.adminKey).toBe(adminKeyOf(first.output()));
        // The generated secret was kept: a token from before still connects.
        expect(statSync(join(dataDir, 'pigeonhole-secrets.json')).mode & 0o077).toBe(0);
        const bob = await TestClient.connect(`${second.wsUrl}/?token=${first.bobToken}`);
        const messages = await bob.messages(3);
        expect(messages.map((m) => [m.id, m.from, m.body])).toEqual(sent.map((reply, i) => [reply.id, 'alice', ['one', 'two', 'still here?'][i]]));
        await bob.close();
      } finally {
        second.child.kill('SIGTERM');
        await exited(second.child);
        await leftoversAfterStopping(second.child.pid as number, second.dynamoPort);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);

  it('injects faults when asked, and says so', async () => {
    const started = await npmStart(['--faults', 'dynamodb=100%']);
    const group = started.child.pid as number;
    try {
      expect(started.output()).toContain('Fault injection is on: 100 % of DynamoDB requests (throttled, 500, timeout, lost reply), 0 % of @connections posts');
      // Every DynamoDB request fails: $connect cannot record the connection, and refuses it.
      expect(await TestClient.refusal(`${started.wsUrl}/?token=${started.aliceToken}`)).toBe(500);
    } finally {
      started.child.kill('SIGTERM');
      await exited(started.child);
      killGroup(group, started.dynamoPort);
    }
  }, 120_000);

  it("turns on AWS's timing when asked, says so, and npm run smoke holds against it", async () => {
    const started = await npmStart(['--opening-delay', '0-300ms', '--stale-reads', '10%'], { PIGEONHOLE_ASYNC_INVOCATIONS: 'late=0.1,twice=5%' });
    const group = started.child.pid as number;
    try {
      expect(started.output()).toContain('Opening delay is on: posts get 410 for 0-300 ms after $connect.');
      expect(started.output()).toContain('Stale reads are on: 10 % of eventually consistent reads may see up to 1 s back.');
      expect(started.output()).toContain('Asynchronous invocations: 10 % late, 5 % twice, by 100-1000 ms.');
      const client = await TestClient.connect(`${started.wsUrl}/?token=${started.aliceToken}`);
      expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
      await client.close();

      // What a user runs after `cdk deploy`, here against `npm start` under AWS's timing.
      const adminUrl = /Admin API\s+(http:\/\/\S+)/.exec(started.output())?.[1] ?? '';
      const adminKey = /Admin key\s+(ph_\S+)/.exec(started.output())?.[1] ?? '';
      const smoke = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'smoke/run.ts', '--ws', started.wsUrl, '--admin', adminUrl], {
        env: { ...process.env, PIGEONHOLE_ADMIN_KEY: adminKey },
        timeout: 60_000,
      });
      expect(smoke.stdout.trim().split('\n').at(-1)).toBe('7 of 7 held.');
    } finally {
      started.child.kill('SIGTERM');
      await exited(started.child);
      killGroup(group, started.dynamoPort);
    }
  }, 180_000);

  it.each([
    ['--opening-delay', 'soon', "--opening-delay: 'soon' is not an opening delay: use 0-300ms (a range) or 100ms"],
    ['--stale-reads', '2', "--stale-reads: '2' is not a share of reads: use 0.1 or 10%"],
    ['--async-invocations', 'late', "--async-invocations: 'late' is not an asynchronous invocation fault: use late=0.1, twice=5% or delay=100-1000ms"],
  ])('refuses %s %s in one line', (flag, spec, message) => {
    const failure = startRefusal([flag, spec]);
    expect(failure?.status).toBe(1);
    expect(failure?.stderr.trim()).toBe(message);
  });

  it('refuses a fault spec it cannot read, in one line', () => {
    const failure = startRefusal(['--faults', 'dynamo=5']);
    expect(failure?.status).toBe(1);
    expect(failure?.stderr.trim()).toBe("--faults: 'dynamo=5' is not a fault share: use dynamodb=0.05 or connections=5% (a share from 0 to 1, or 0% to 100%)");
  });

  it('puts a settings change in force at once with PIGEONHOLE_SETTINGS_CACHE_SECONDS=0; without it, the 60 s cache holds it back', async () => {
    // Whether user-level settings are on is an app setting every function caches: `getOfflineMessageDuration` shows it.
    const afterEnabling = async (env: Record<string, string>) => {
      const started = await npmStart([], env);
      const group = started.child.pid as number;
      try {
        const adminUrl = /Admin API\s+(http:\/\/\S+)/.exec(started.output())?.[1] ?? '';
        const adminKey = /Admin key\s+(ph_\S+)/.exec(started.output())?.[1] ?? '';
        const client = await TestClient.connect(`${started.wsUrl}/?token=${started.aliceToken}`);
        expect(await client.request({ action: 'getOfflineMessageDuration' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });
        const patched = await fetch(`${adminUrl}/config`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
          body: JSON.stringify({ userLevelSettingsEnabled: true }),
        });
        expect(patched.status).toBe(200);
        const reply = await client.request({ action: 'getOfflineMessageDuration' });
        await client.close();
        return reply.type;
      } finally {
        started.child.kill('SIGTERM');
        await exited(started.child);
        killGroup(group, started.dynamoPort);
      }
    };
    expect(await afterEnabling({ PIGEONHOLE_SETTINGS_CACHE_SECONDS: '0' })).toBe('offlineMessageDuration');
    // Unset (empty): 60 s, as on AWS. The next read comes well within the minute the first is cached for.
    expect(await afterEnabling({ PIGEONHOLE_SETTINGS_CACHE_SECONDS: '' })).toBe('error');
  }, 180_000);

  it.each(['61', '-1', '1.5', 'soon'])('refuses PIGEONHOLE_SETTINGS_CACHE_SECONDS=%s in one line', (value) => {
    const failure = startRefusal([], { ...process.env, PIGEONHOLE_SETTINGS_CACHE_SECONDS: value });
    expect(failure?.status).toBe(1);
    expect(failure?.stderr.trim()).toBe(`PIGEONHOLE_SETTINGS_CACHE_SECONDS must be a whole number 0-60, not '${value}'`);
  });

  it('refuses a PIGEONHOLE_TOKEN_SECRET shorter than 32 characters, saying how long it must be', () => {
    const failure = startRefusal([], { ...process.env, PIGEONHOLE_WS_PORT: '0', PIGEONHOLE_ADMIN_PORT: '0', PIGEONHOLE_TOKEN_SECRET: 's'.repeat(31) });
    expect(failure?.status).toBe(1);
    expect(failure?.stderr).toContain('the token secret must be at least 32 characters');
  });

  it('says plainly what to install when Java is missing', () => {
    // A PATH with node on it and nothing else (node's own directory may hold java too).
    const nodeOnly = mkdtempSync(join(tmpdir(), 'pigeonhole-no-java-'));
    symlinkSync(process.execPath, join(nodeOnly, 'node'));
    const failure = startRefusal([], { PATH: nodeOnly, HOME: process.env.HOME ?? '/tmp', PIGEONHOLE_WS_PORT: '0', PIGEONHOLE_ADMIN_PORT: '0' });
    if (failure) expect(failure.status).toBe(1);
    const message = failure?.stderr ?? '';
    expect(message).toContain('DynamoDB Local needs Java 17 or newer');
    expect(message).toContain('apt install openjdk-17-jre-headless');
    expect(message).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    rmSync(nodeOnly, { recursive: true, force: true });
  });
});

/** Runs `npm start`'s program with these arguments, expecting it to refuse: its exit status and stderr, or undefined if it ran. */
function startRefusal(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { status: number; stderr: string } | undefined {
  try {
    execFileSync(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'local/start.ts', ...args], { env, encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
  } catch (error) {
    return error as { status: number; stderr: string };
  }
  return undefined;
}
