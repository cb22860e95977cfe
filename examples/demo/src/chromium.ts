// The browser tests' Chromium: Debian's binary (or KEYWARD_CHROMIUM), never a downloaded one, started with
// the flags a machine without network needs. Shared by browser.test.ts and dashboard-v2.test.ts.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Chromium is looked for. */
export const CHROMIUM = process.env.KEYWARD_CHROMIUM?.trim() || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots are rewritten only when asked (`UPDATE_SCREENSHOTS=1`), so tests leave the tree clean. */
export const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
export const SCREENSHOTS = new URL('../screenshots/', import.meta.url);

/** Throws a message that says how to install Chromium when it is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}, and it is not there. Install it ` +
        '(Debian/Ubuntu: apt-get install chromium) or point KEYWARD_CHROMIUM at a Chromium or Chrome binary.',
    );
  }
}

/** Starts headless Chromium, or `undefined` when it is not installed (each test then fails with `requireChromium`). */
export async function launchChromium(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
