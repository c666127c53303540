/** `.ci/summarize.mjs`: a run that failed anywhere never reads as `0 failed`. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function summarize(report: object, status: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ci-summary-')), 'results.json');
  writeFileSync(file, JSON.stringify(report));
  return execFileSync(process.execPath, ['.ci/summarize.mjs', file, String(status)], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? '';
}

const passingFile = { name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] };

describe('the CI summary line', () => {
  it('counts tests', () => {
    expect(summarize({ success: true, numPassedTests: 3, numFailedTests: 0, numPendingTests: 1, testResults: [passingFile] }, 0)).toBe('3 passed, 0 failed, 1 skipped');
  });

  it('counts a file whose beforeAll threw, though its tests read as skipped', () => {
    const file = { name: 'b.test.ts', status: 'failed', message: 'hook failed', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] };
    expect(summarize({ success: false, numPassedTests: 0, numFailedTests: 0, numPendingTests: 2, testResults: [file] }, 1)).toBe('0 passed, 1 failed, 2 skipped');
  });

  it('counts a file whose afterAll threw, though its tests passed', () => {
    const file = { name: 'c.test.ts', status: 'failed', assertionResults: [{ status: 'passed' }] };
    expect(summarize({ success: false, numPassedTests: 1, numFailedTests: 0, testResults: [file] }, 1)).toBe('1 passed, 1 failed');
  });

  it('counts an unhandled error that failed the run with every test passing', () => {
    expect(summarize({ success: false, numPassedTests: 5, numFailedTests: 0, testResults: [passingFile] }, 1)).toBe('5 passed, 1 failed');
  });

  it('counts a failed test once, not again for its file', () => {
    const file = { name: 'd.test.ts', status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'passed' }] };
    expect(summarize({ success: false, numPassedTests: 1, numFailedTests: 1, testResults: [file] }, 1)).toBe('1 passed, 1 failed');
  });
});
