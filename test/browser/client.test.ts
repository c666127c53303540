/**
 * The client SDK in a real browser (headless Chromium through playwright-core; see
 * test/support/browser.ts for how to install it): the built `/client/index.js`, loaded by a page from
 * the local stack's admin port, gets an offline backlog, acks it, loses its connection and comes back.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
import { clientFor, watchConnections } from '../client/helpers';
import { admin } from '../support/admin';
import { launchBrowser } from '../support/browser';
import { startTestStack } from '../support/local-stack';

let stack: LocalStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

// In-page code goes as strings: the test runner's transforms must not reach what the browser runs.
const startClient = (url: string, token: string) => `(async () => {
  const { PigeonholeClient } = await import('/client/index.js');
  const client = new PigeonholeClient({ url: ${JSON.stringify(url)}, token: ${JSON.stringify(token)}, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  window.handed = [];
  window.states = [];
  client.on('state', (state) => window.states.push(state));
  // Acked only once this promise settles.
  client.on('message', async (message) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    window.handed.push(message);
  });
  window.client = client;
  await client.connect();
})()`;

async function handed(page: Page): Promise<number[]> {
  return page.evaluate('window.handed.map((message) => message.body.n)');
}

describe('the client in Chromium', () => {
  it('gets the offline backlog, acks it, and after a drop reconnects and gets what came meanwhile', async () => {
    const [senderId, readerId] = [`snd-${randomUUID().slice(0, 8)}`, `brw-${randomUUID().slice(0, 8)}`];
    const connections = watchConnections(stack);
    const sender = clientFor(stack.wsUrl, await stack.issueToken(senderId));
    await sender.connect();
    for (let n = 0; n < 5; n += 1) await sender.send({ type: 'private', target: readerId, body: { n } });

    // The test drives the client with scripts of its own, which the examples' CSP would refuse to eval.
    const page = await browser.newPage({ bypassCSP: true });
    await page.goto(`${new URL(stack.adminUrl).origin}/examples/web-chat/index.html`);
    await page.evaluate(startClient(stack.wsUrl, await stack.issueToken(readerId)));
    await page.waitForFunction('window.handed.length >= 5');
    expect(await handed(page)).toEqual([0, 1, 2, 3, 4]);

    // The service drops the connection; what is sent meanwhile comes on the next one.
    expect(await connections.drop(readerId)).toBe(1);
    await page.waitForFunction("window.states.includes('reconnecting')");
    for (let n = 5; n < 10; n += 1) await sender.send({ type: 'private', target: readerId, body: { n } });
    await page.waitForFunction('window.handed.length >= 10');
    // close() sends the acks still due and waits for their replies.
    await page.evaluate('window.client.close()');

    expect(await handed(page)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await page.evaluate('window.states')).toEqual(['connecting', 'open', 'reconnecting', 'open', 'closed']);
    expect((await admin(stack, 'GET', `/users/${readerId}/offline`)).body.count).toBe(0);
    await sender.close();
    await page.close();
  }, 60_000);
});
