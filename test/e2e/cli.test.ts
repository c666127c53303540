/** `npx pigeonhole` (SPEC §8) against the local stack, as an admin types it. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { runCli } from '../support/cli';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ settingsCacheSeconds: 0 });
});
afterAll(() => stack?.stop());

/** Runs the CLI through its bin, with the environment an admin would have. */
const pigeonhole = (args: string[], env: Record<string, string | undefined> = {}) => runCli(stack, args, env);

describe('pigeonhole config', () => {
  it('shows the settings one per line, and as JSON with --json', async () => {
    const readable = await pigeonhole(['config', 'get']);
    expect(readable.code).toBe(0);
    expect(readable.stdout).toMatch(/^offlineMessageDurationDays\s+7$/m);
    expect(readable.stdout).toMatch(/^groupOfflineMessageDurationDays\s+null$/m);
    const json = await pigeonhole(['config', 'get', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ maxOfflineMessages: 1000, userLevelSettingsEnabled: false });
  });

  it('changes settings, reading numbers, booleans and null', async () => {
    try {
      const run = await pigeonhole(['config', 'set', 'maxOfflineMessages=500', 'userLevelSettingsEnabled=true', 'groupOfflineMessageDurationDays=null']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Updated maxOfflineMessages, userLevelSettingsEnabled, groupOfflineMessageDurationDays.');
      expect(run.stdout).toMatch(/^maxOfflineMessages\s+500$/m);
      expect(JSON.parse((await pigeonhole(['config', 'get', '--json'])).stdout)).toMatchObject({ maxOfflineMessages: 500, userLevelSettingsEnabled: true });
    } finally {
      await pigeonhole(['config', 'set', 'maxOfflineMessages=1000', 'userLevelSettingsEnabled=false']);
    }
  });

  it('sets the abuse limits (send rate, burst, connections, sender cap), null where allowed', async () => {
    try {
      const run = await pigeonhole(['config', 'set', 'sendRatePerSecond=50', 'sendBurst=200', 'maxConnectionsPerUser=10', 'maxOfflineMessagesPerSender=null']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^sendRatePerSecond\s+50$/m);
      expect(run.stdout).toMatch(/^maxOfflineMessagesPerSender\s+null$/m);
      expect(JSON.parse((await pigeonhole(['config', 'get', '--json'])).stdout)).toMatchObject({
        sendRatePerSecond: 50,
        sendBurst: 200,
        maxConnectionsPerUser: 10,
        maxOfflineMessagesPerSender: null,
      });
    } finally {
      await pigeonhole(['config', 'set', 'sendRatePerSecond=20', 'sendBurst=100', 'maxConnectionsPerUser=50', 'maxOfflineMessagesPerSender=200']);
    }
  });

  it.each([
    [['config', 'set', 'sendRatePerSecond=0'], 'sendRatePerSecond must be a whole number 1 to 10000 (got 0); nothing was changed (HTTP 400)'],
    [['config', 'set', 'maxConnectionsPerUser=5000'], 'maxConnectionsPerUser must be a whole number 1 to 1000 (got 5000)'],
    [['config', 'set', 'offlineMessageDurationDays=9'], 'offlineMessageDurationDays must be a whole number 1 to 7 (got 9); nothing was changed (HTTP 400)'],
    [['config', 'set', 'offlineMessageDurationDays=x'], '(got "x")'],
    [['config', 'set', 'colour=red'], 'unknown app setting: colour'],
  ])('exits 1 with a one-line reason on %j, changing nothing', async (args, reason) => {
    const before = (await pigeonhole(['config', 'get', '--json'])).stdout;
    const run = await pigeonhole(args);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(reason)]);
    expect(run.stderr).toMatch(/^pigeonhole: /);
    expect((await pigeonhole(['config', 'get', '--json'])).stdout).toBe(before);
  });
});

describe('pigeonhole user, queue and token', () => {
  it('sets, shows and clears a user’s duration', async () => {
    try {
      expect((await pigeonhole(['user', 'set', 'ulla', '3'])).stdout).toBe(
        'user         ulla\nown setting  3 days\nin force     7 days (from the app)\n',
      );
      expect(JSON.parse((await pigeonhole(['user', 'get', 'ulla', '--json'])).stdout)).toMatchObject({ offlineMessageDurationDays: 3 });
      expect((await pigeonhole(['user', 'clear', 'ulla'])).stdout).toContain('own setting  none');
    } finally {
      await pigeonhole(['user', 'clear', 'ulla']);
    }
    const bad = await pigeonhole(['user', 'set', 'ulla', '8']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('must be a whole number 1 to 7');
  });

  it('issues a token that connects, and summarizes the queue', async () => {
    const run = await pigeonhole(['token', 'vik']);
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    const vik = await TestClient.connect(`${stack.wsUrl}/?token=${token}`);
    await vik.request({ action: 'send', type: 'private', target: 'wren', clientMsgId: 'c1', body: 'hi' });
    await vik.close();
    expect((await pigeonhole(['queue', 'wren'])).stdout).toMatch(/^wren has 1 message waiting \(1 private, 0 group, 0 system\)$/m);
  });

  it('says what is wrong with a command, exiting 2', async () => {
    for (const args of [['frobnicate'], ['user', 'get'], ['config', 'set'], ['config', 'set', 'nokey']]) {
      const run = await pigeonhole(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^pigeonhole: .+\n$/);
    }
  });

  it('needs the admin key locally, and says where to get it', async () => {
    const run = await pigeonhole(['config', 'get'], { PIGEONHOLE_ADMIN_KEY: undefined });
    expect(run).toMatchObject({ code: 2, stderr: 'pigeonhole: set PIGEONHOLE_ADMIN_KEY to the admin key (npm start prints it)\n' });
    const wrong = await pigeonhole(['config', 'get'], { PIGEONHOLE_ADMIN_KEY: 'ph_wrong' });
    expect(wrong).toMatchObject({ code: 1, stderr: 'pigeonhole: the admin key is wrong (HTTP 403)\n' });
  });
});

describe('against AWS', () => {
  it('signs requests with SigV4 for execute-api, from the standard credential chain', async () => {
    let seen: { headers: IncomingHttpHeaders; url: string | undefined; body: string } | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { headers: req.headers, url: req.url, body };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 't', userId: 'amy', expiresAt: 'x' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const run = await pigeonhole(['token', 'amy', '--sigv4', '--region', 'eu-west-1', '--endpoint', endpoint], {
      PIGEONHOLE_ADMIN_KEY: undefined,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_PROFILE: undefined,
    });
    server.close();
    expect(run).toMatchObject({ code: 0, stdout: 't\n' });
    expect(seen?.url).toBe('/v1/tokens');
    expect(JSON.parse(seen?.body ?? '')).toEqual({ userId: 'amy' });
    expect(seen?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(seen?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(seen?.headers['x-amz-content-sha256'] ?? 'unsigned-body-ok').toBeTruthy();
  });
});
