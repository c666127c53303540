import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The SDK warns on Node 20 about its releases after January 2027; the lockfile pins this one.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'lib/**/*.test.ts'],
    // One DynamoDB Local for the whole run; each test file gets its own tables inside it.
    globalSetup: ['test/support/global-dynamodb.ts', 'test/support/global-client-build.ts'],
    // A process per file: the local stack configures handlers through process.env, as Lambda does.
    pool: 'forks',
    // Vitest's default is one fork fewer than the cores: a single fork on a 2-core machine, which runs the
    // files one after another. Most of a file's time is waiting on DynamoDB Local and sockets, so two
    // forks take about two thirds of the time there, and no more than the cores elsewhere.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Quiet by default: what a test logs (the handlers' logs, warnings that fault injection provokes on
    // purpose) is printed only when that test fails. PIGEONHOLE_TEST_LOGS=1 prints everything.
    silent: process.env.PIGEONHOLE_TEST_LOGS === '1' ? false : 'passed-only',
    env: {
      // Powertools then logs through the global console, which Vitest captures per test.
      POWERTOOLS_DEV: 'true',
    },
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
