// Prints "N passed, N failed[, N skipped]" from vitest's JSON report. A run can fail without a failed
// test: a file that does not load, a beforeAll or afterAll that throws (its tests read as skipped or
// passed), an unhandled error or rejection. Each failed file without a failed test counts once, and a
// failed run that counted nothing else counts as one failure, so a broken run never reads as green.
import { existsSync, readFileSync } from 'node:fs';

const [resultsPath, status] = process.argv.slice(2);
if (!existsSync(resultsPath)) {
  console.log(`0 passed, 1 failed${status === '0' ? '' : ' (no test report: see the output above)'}`);
  process.exit(0);
}
const report = JSON.parse(readFileSync(resultsPath, 'utf8'));
const passed = report.numPassedTests ?? 0;
const files = report.testResults ?? [];
const brokenFiles = files.filter((file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'));
let failed = (report.numFailedTests ?? 0) + brokenFiles.length;
const runFailed = status !== '0' || report.success === false;
if (failed === 0 && runFailed) failed = 1;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
for (const file of brokenFiles) console.log(`failed outside a test: ${file.name}${file.message ? `: ${String(file.message).split('\n')[0]}` : ''}`);
if (failed === 1 && brokenFiles.length === 0 && (report.numFailedTests ?? 0) === 0) console.log('the run failed outside any test (an unhandled error?): see the output above');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
