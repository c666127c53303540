/**
 * The token-signing secret must be at least 32 characters (HS256 wants a key as long as its 256-bit
 * hash): the local stack refuses a shorter one before it starts anything, and works with one of
 * exactly 32. (`npm start`'s `PIGEONHOLE_TOKEN_SECRET` is refused so too: test/e2e/npm-start.test.ts.)
 */
import { expect, it } from 'vitest';
import { admin } from '../support/admin';
import { TestClient } from '../support/client';
import { startTestStack } from '../support/local-stack';

it('refuses to start with a secret one character short, saying how long it must be; starts with 32, and its tokens connect', async () => {
  await expect(startTestStack({ tokenSecret: 'k'.repeat(31) })).rejects.toThrow('the token secret must be at least 32 characters');

  // Nothing was left running by the refusal: a stack starts in this process at once.
  const stack = await startTestStack({ tokenSecret: 'k'.repeat(32) });
  try {
    expect(stack.tokenSecret).toBe('k'.repeat(32));
    const issued = await admin(stack, 'POST', '/tokens', { userId: 'ada' });
    expect(issued.status).toBe(201);
    for (const token of [await stack.issueToken('ada'), issued.body.token as string]) {
      const client = await TestClient.connect(`${stack.wsUrl}/?token=${token}`);
      expect(await client.request({ action: 'ping' })).toMatchObject({ type: 'pong' });
      await client.close();
    }
  } finally {
    await stack.stop();
  }
});
