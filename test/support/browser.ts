/**
 * Headless Chromium for the browser tests (client SDK in a page, admin console), driven by
 * playwright-core against the system's Chromium: Playwright's own browser download cannot run here.
 * `.ci/run` installs Debian's `chromium` when it is missing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const candidates = [process.env.PIGEONHOLE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser's path, or an error that says how to get one. */
export function chromiumPath(): string {
  const found = candidates.find((path): path is string => path !== undefined && existsSync(path));
  if (!found) {
    throw new Error(
      'no Chromium found for the browser tests: install it (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
        'or set PIGEONHOLE_CHROMIUM to a Chromium or Chrome binary',
    );
  }
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
