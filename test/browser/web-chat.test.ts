/**
 * examples/web-chat as a newcomer uses it: two tabs of the page `npm start` serves, alice and bob,
 * chatting; bob's tab opens after alice wrote (offline delivery) and shows the history after a reload.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { LocalStack } from '../../local/stack';
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

async function openChat(userId: string, peer: string): Promise<Page> {
  const page = await browser.newPage();
  const fragment = new URLSearchParams({ url: stack.wsUrl, token: await stack.issueToken(userId), peer });
  await page.goto(`${new URL(stack.adminUrl).origin}/examples/web-chat/#${fragment}`);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByLabel('Message', { exact: true }).and(page.locator(':enabled')).waitFor();
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

const line = (page: Page, text: string) => page.locator('#log li', { hasText: text }).waitFor();

describe('the web chat example', () => {
  it('lets two tabs chat, with offline delivery and history', async () => {
    const [alice, bob] = [`alice-${randomUUID().slice(0, 6)}`, `bob-${randomUUID().slice(0, 6)}`];
    const alicePage = await openChat(alice, bob);
    await say(alicePage, 'hi bob, are you there?');
    await line(alicePage, `${alice}: hi bob, are you there?`);

    // Bob was away: the message waits for him.
    const bobPage = await openChat(bob, alice);
    await line(bobPage, `${alice}: hi bob, are you there?`);
    await say(bobPage, 'here now');
    // Shown in bob's tab once answered, so no longer in its outbox: the reload below resends nothing.
    await line(bobPage, `${bob}: here now`);
    await line(alicePage, `${bob}: here now`);

    // After a reload, bob's tab shows the conversation from history.
    await bobPage.reload();
    await bobPage.getByRole('button', { name: 'Connect' }).click();
    await line(bobPage, `${alice}: hi bob, are you there?`);
    await line(bobPage, `${bob}: here now`);
    await Promise.all([alicePage.close(), bobPage.close()]);
  }, 60_000);
});
