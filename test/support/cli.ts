import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LocalStack } from '../../local/stack';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `npx pigeonhole` through its bin against the stack, with the environment an admin would have. */
export async function runCli(stack: LocalStack, args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/pigeonhole.mjs', ...args], {
      env: { ...process.env, PIGEONHOLE_ADMIN_KEY: stack.adminKey, PIGEONHOLE_ENDPOINT: stack.adminUrl, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as CliRun;
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}
