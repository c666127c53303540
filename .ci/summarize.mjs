// Prints "N passed, N failed[, N skipped]" from vitest's JSON report. When there is no report (the
// typecheck that runs before vitest failed, say), the run counts as one failure.
import { existsSync, readFileSync } from 'node:fs';

const [resultsPath, status] = process.argv.slice(2);
if (!existsSync(resultsPath)) {
  console.log(`0 passed, 1 failed${status === '0' ? '' : ' (no test report: see the output above)'}`);
  process.exit(0);
}
const report = JSON.parse(readFileSync(resultsPath, 'utf8'));
const passed = report.numPassedTests ?? 0;
// Files that failed to load count once each, so a broken file can never read as green.
const brokenFiles = (report.testResults ?? []).filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
