// The dashboard browser tests' harness: the demo on a MemoryKeyStore listening on 127.0.0.1, Chromium,
// a signed-up organization's API keys page, and axe-core. `useDashboard()` registers the vitest hooks that
// start and stop them; each test file that calls it gets its own server and browser. The server and every
// page share one pinned clock (`PINNED_NOW` unless a test passes `now`), and pages run in `UTC` and
// `en-US`: no test sees today's date, time zone or locale.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createDemoApp, DEMO_KEY_LIMITS, type DemoOptions } from './app.js';
import { launchChromium, requireChromium } from './chromium.js';
import { PINNED_NOW, pinnedClock } from './pinned-clock.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export type Theme = 'light' | 'dark';

export const rows = (page: Page) => page.locator('#kw-rows > tr');
export const rowNamed = (page: Page, name: string) =>
  page
    .locator('#kw-rows > tr')
    .filter({ has: page.locator('.kw-name', { hasText: new RegExp(`^${escapeRegExp(name)}$`) }) });

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens a row's "…" menu with the mouse and picks an item. */
export async function pick(page: Page, name: string, item: string) {
  await rowNamed(page, name)
    .getByRole('button', { name: /^Actions for / })
    .click();
  await page.getByRole('menuitem', { name: item }).click();
}

/** axe-core's violations on the page as it is now (evaluated over CDP: the page's CSP stays untouched). */
export async function axeViolations(page: Page, context = 'document'): Promise<string[]> {
  await settled(page);
  await injectAxe(page);
  const result = (await page.evaluate(
    (selector) =>
      // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time.
      (window as any).axe.run(selector === 'document' ? document : selector, { resultTypes: ['violations'] }),
    context,
  )) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
  return result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

/** Loads axe-core (half a megabyte of script) into the page once, not before every check of the same page. */
async function injectAxe(page: Page): Promise<void> {
  // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time.
  if (await page.evaluate(() => typeof (window as any).axe?.run === 'function')) return;
  await page.evaluate(AXE_SOURCE);
}

/**
 * Waits for the page's running CSS transitions to end: buttons fade their background for 0.12 s, so right
 * after a theme switch (or a hover) the text already has its new color while the background is still on its
 * way, and axe would judge a mix no user sees for longer than that (CI once caught the dark theme's "New key"
 * button mid-fade, dark text on the light theme's indigo).
 */
async function settled(page: Page): Promise<void> {
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => null))));
}

/** axe-core's color-contrast answer for one element: [violations, passes]. */
export async function contrastOf(page: Page, selector: string): Promise<[number, number]> {
  await settled(page);
  await injectAxe(page);
  return page.evaluate(
    (s) =>
      // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time.
      (window as any).axe
        .run(s, { runOnly: ['color-contrast'] })
        .then((r: { violations: unknown[]; passes: unknown[] }) => [r.violations.length, r.passes.length]),
    selector,
  );
}

/**
 * Runs each call a later millisecond than the last one ended, so records made by consecutive calls (keys,
 * events) have distinct times and "newest first" has one answer.
 */
export function oneAtATime() {
  let last = Date.now();
  return async <T>(make: () => Promise<T>): Promise<T> => {
    while (Date.now() <= last) await new Promise((resolve) => setTimeout(resolve, 1));
    const made = await make();
    last = Date.now();
    return made;
  };
}

/**
 * Makes the page reload its list and activity, as it does when the tab becomes visible again, and waits
 * until both are shown (no element `aria-busy` any more).
 */
export async function reload(page: Page) {
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await page.waitForFunction(() => document.querySelector('[aria-busy="true"]') === null);
}

/**
 * Starts the demo and Chromium for the calling test file (vitest hooks) and returns what its tests use.
 * `keyward()` is the demo's service (to make keys behind the page's back); `base` its origin; `store()` its
 * key store (to make keys as an earlier version of the app did). `demoOptions` go to the demo
 * (a lifetime policy, grantable scopes).
 */
export function useDashboard(demoOptions: Pick<DemoOptions, 'lifetime' | 'grantableScopes'> = {}) {
  let browser: Browser | undefined;
  let service: Keyward | undefined;
  const store = new MemoryKeyStore();
  let server: Server | undefined;
  let base = '';
  const contexts: BrowserContext[] = [];
  const clock = pinnedClock();

  beforeAll(async () => {
    requireChromium();
    const demo = createDemoApp({
      ...demoOptions,
      store,
      pepper: TEST_PEPPER,
      clock: clock.now,
      // Every test signs up from 127.0.0.1: the demo's default (20 per 10 minutes) would refuse the 21st.
      signupRateLimit: { limit: 1_000, windowMs: 600_000 },
      // The demo's default limits without its `max`, so that tests can give a public key no limits at all
      // (the demo's own tests hold its `max`).
      keyLimits: { defaults: DEMO_KEY_LIMITS.defaults },
    });
    service = demo.keyward;
    server = demo.app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await service?.close();
  });

  /**
   * A signed-up organization's API keys page; `problems` collects console errors and page errors. The
   * server and the page run from `now` (default `PINNED_NOW`).
   */
  async function signedIn(
    options: { width?: number; theme?: Theme; organization?: string; now?: string } = {},
  ) {
    if (!browser) throw new Error('no browser');
    clock.set(options.now ?? PINNED_NOW);
    const context = await browser.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: options.width ?? 1320, height: 820 },
      colorScheme: options.theme ?? 'light',
    });
    contexts.push(context);
    await clock.install(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/`);
    await page.getByLabel('Organization name').fill(options.organization ?? 'Acme');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.waitForURL(`${base}/dashboard/api-keys`);
    await page.locator('#kw-rows > tr').first().waitFor();
    // The Activity panel starts loading when the rows are shown: wait for it too.
    await page.waitForFunction(() => document.querySelector('[aria-busy="true"]') === null);
    const org = await page.evaluate(async () => {
      const res = await fetch('/api/keys');
      return (
        ((await res.json()) as { data: Array<{ organizationId: string }> }).data[0]?.organizationId ?? ''
      );
    });
    return { page, org, problems };
  }

  return {
    signedIn,
    keyward: (): Keyward => {
      if (!service) throw new Error('the demo is not running');
      return service;
    },
    /** The pinned time of the server and the pages, in ms since the epoch. */
    now: clock.now,
    base: () => base,
    store: (): MemoryKeyStore => store,
  };
}
