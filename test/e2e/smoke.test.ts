/** `npm run smoke` (smoke/run.ts) against the local stack, as someone checks a deployment with it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function smoke(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'smoke/run.ts', ...args], {
      env: { ...process.env, PIGEONHOLE_ADMIN_KEY: stack.adminKey, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('npm run smoke', () => {
  it('runs the whole scenario against the local stack, and every step holds', async () => {
    const run = await smoke(['--ws', stack.wsUrl, '--admin', stack.adminUrl]);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`Smoke test against ${stack.wsUrl}`);
    expect(lines.slice(1, -1).map((line) => line.trim().split(/\s{2,}/).slice(0, 2))).toEqual([
      ['held', 'tokens from POST /v1/tokens'],
      ['held', 'alice connects'],
      ['held', 'an offline message is stored'],
      ['held', 'the drain delivers it when bob connects'],
      ['held', 'the ack removes it'],
      ['held', 'a setting changed through the admin API holds'],
      ['held', 'a group message reaches the other member'],
    ]);
    expect(lines.at(-1)).toBe('7 of 7 held.');
    expect(run.code).toBe(0);
  }, 60_000);

  it('says which step failed, marks the rest not run, and exits 1', async () => {
    const run = await smoke(['--ws', stack.wsUrl, '--admin', stack.adminUrl], { PIGEONHOLE_ADMIN_KEY: 'ph_wrong' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAILED\s+tokens from POST \/v1\/tokens\s+the admin key is wrong \(HTTP 403\)/);
    expect(run.stdout).toMatch(/ -\s+alice connects\s+not run: an earlier step failed\n/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe('0 of 7 held.');
  }, 60_000);

  it('asks for both URLs', async () => {
    const run = await smoke(['--ws', stack.wsUrl]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give both --ws and --admin');
  });
});
