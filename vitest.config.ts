import { defineConfig } from 'vitest/config';

// The SDK warns on Node 20 about its releases after January 2027; the lockfile pins this one.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run; each test file gets its own tables inside it.
    globalSetup: ['test/support/global-dynamodb.ts', 'test/support/global-client-build.ts'],
    // A process per file: the local stack configures handlers through process.env, as Lambda does.
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
