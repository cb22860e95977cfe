// The dashboard as an element in an app's own page (for apps that sign in without cookies): <keyward-api-keys> in an app that
// signs in with a bearer token (JWT-header style, no cookie, no session), whose admin router's `authorize`
// reads `Authorization: Bearer <app token>` and whose page hands the element the token with `getToken`.
// The cookie app (the demo) is covered by the other dashboard test files.

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminRouter, createDashboardRouter, DASHBOARD_CSP } from '@keyward/admin';
import { createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from './chromium.js';
import { axeViolations, type Theme } from './dashboard-harness.js';
import { pinnedClock } from './pinned-clock.js';

const ORG = 'org_embedded';
const APP_TOKEN = `app.${randomBytes(16).toString('base64url')}`;

let browser: Browser | undefined;
let server: Server | undefined;
let keyward: Keyward | undefined;
let base = '';
const clock = pinnedClock();
/** What the app's `authorize` saw: requests with the app's token, and requests without it. */
const seen = { authorized: 0, refused: 0, cookies: 0 };
const closers: Array<() => Promise<void>> = [];

/**
 * The app's console page: its own heading, the element, and its own module, which hands the element the
 * token (as a front end holding a JWT would) and then loads the element from the dashboard's assets.
 * `hooks` is the module's code between the two.
 */
function consolePage(hooks: string, attributes = ''): { html: string; script: string } {
  return {
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme console</title><link rel="icon" href="data:,">
<script type="module" src="/console.js"></script></head>
<body><main><h1>Acme console</h1>
<keyward-api-keys api-url="/api/keys"${attributes}></keyward-api-keys>
</main></body></html>`,
    script: `const keys = document.querySelector('keyward-api-keys');
${hooks}
await import('/settings/api-keys/assets/element.js');
`,
  };
}

let page = consolePage(`keys.getToken = async () => ${JSON.stringify(APP_TOKEN)};`);

beforeAll(async () => {
  requireChromium();
  keyward = createKeyward({
    store: new MemoryKeyStore(),
    pepper: TEST_PEPPER,
    scopes: ['orders:read', 'orders:write'],
    publicScopes: ['orders:read'],
    clock: clock.now,
  });
  const app = express();
  app.use(
    '/api/keys',
    createAdminRouter({
      keyward,
      authorize: (req) => {
        if (req.headers.cookie) seen.cookies++;
        if (req.headers.authorization === `Bearer ${APP_TOKEN}`) {
          seen.authorized++;
          return { organizationId: ORG, actor: { type: 'user', id: 'user_ada' } };
        }
        seen.refused++;
        return null;
      },
    }),
  );
  // Only for its files here: the app shows the element in its own page.
  app.use('/settings/api-keys', createDashboardRouter({ apiUrl: '/api/keys' }));
  app.get('/console', (_req, res) => {
    res.set('Content-Security-Policy', DASHBOARD_CSP).type('html').send(page.html);
  });
  app.get('/console.js', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('text/javascript').send(page.script);
  });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  await keyward?.close();
});

async function openConsole(theme: Theme = 'light'): Promise<{ page: Page; problems: string[] }> {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1320, height: 820 },
    colorScheme: theme,
  });
  closers.push(() => context.close());
  await clock.install(context);
  const tab = await context.newPage();
  tab.setDefaultTimeout(10_000);
  const problems: string[] = [];
  tab.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  tab.on('pageerror', (e) => problems.push(e.message));
  await tab.goto(`${base}/console`);
  return { page: tab, problems };
}

const rows = (tab: Page) => tab.locator('keyward-api-keys #kw-rows > tr');
const idle = (tab: Page) => tab.waitForFunction(() => document.querySelector('[aria-busy="true"]') === null);

async function act(tab: Page, row: number, item: string, confirm: string) {
  await rows(tab)
    .nth(row)
    .getByRole('button', { name: /^Actions for / })
    .click();
  await tab.getByRole('menuitem', { name: item }).click();
  await tab.getByRole('button', { name: confirm, exact: true }).click();
}

describe('<keyward-api-keys> in a bearer-token app', () => {
  it('creates, rolls and deletes a key with the token getToken gives, and never needs a cookie', async () => {
    page = consolePage(`keys.getToken = async () => ${JSON.stringify(APP_TOKEN)};
keys.describeActor = (actor) => (actor.id === 'user_ada' ? 'Ada Lovelace' : null);`);
    Object.assign(seen, { authorized: 0, refused: 0, cookies: 0 });
    const { page: tab, problems } = await openConsole();
    await tab.getByText('No API keys yet.').waitFor();
    await idle(tab);

    await tab.getByRole('button', { name: 'New API key' }).click();
    const create = tab.getByRole('dialog', { name: 'New API key' });
    await create.getByLabel('Name').fill('Order sync');
    await create.getByRole('button', { name: 'Create key' }).click();
    const value = tab.locator('#kw-token-value');
    await expect.poll(() => value.inputValue()).toMatch(/^kw_sk_/);
    const token = await value.inputValue();
    await tab.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => rows(tab).count()).toBe(1);
    expect(await keyward?.verify(token)).toMatchObject({ valid: true });

    await act(tab, 0, 'Roll key…', 'Roll key');
    await expect.poll(() => value.inputValue()).toMatch(/^kw_sk_/);
    const rolled = await value.inputValue();
    expect(rolled).not.toBe(token);
    await tab.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => rows(tab).count()).toBe(2);
    expect(await keyward?.verify(rolled)).toMatchObject({ valid: true });

    // The new key is listed first; delete it, then the rolled one.
    await act(tab, 0, 'Delete…', 'Delete key');
    await expect.poll(() => rows(tab).count()).toBe(1);
    await act(tab, 0, 'Delete…', 'Delete key');
    await tab.getByText('No API keys yet.').waitFor();
    expect((await keyward?.listKeys(ORG, { limit: 10 }))?.keys.map((k) => JSON.stringify(k))).toEqual([]);

    // The Activity panel names the app's user: the events were made with the token's actor.
    await idle(tab);
    // Create, roll (on the old key and the new key's creation), delete, delete.
    expect(await tab.locator('#kw-events > li').count()).toBe(5);
    // The app's name for its user (describeActor), not the raw id.
    expect(await tab.locator('#kw-events > li .kw-event-who').first().textContent()).toMatch(
      /^by Ada Lovelace from 127\.0\.0\.1$/,
    );
    expect(seen).toMatchObject({ refused: 0, cookies: 0 });
    expect(seen.authorized).toBeGreaterThan(8);
    expect(await tab.locator('#kw-alert').textContent()).toBe('');
    expect(problems).toEqual([]);
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`has no axe-core violations inside the app's page (${theme})`, async () => {
      page = consolePage(`keys.getToken = () => ${JSON.stringify(APP_TOKEN)};`);
      await keyward?.createKey(ORG, { name: `Listed ${theme}`, type: 'public' });
      const { page: tab, problems } = await openConsole(theme);
      await rows(tab).first().waitFor();
      await idle(tab);
      expect(await axeViolations(tab)).toEqual([]);
      expect(problems).toEqual([]);
    });
  }

  it('sends extra headers and goes through the app’s own fetch', async () => {
    page = consolePage(`keys.headers = { 'X-App': 'console' };
keys.fetch = (url, init) => {
  window.fetchedByApp = (window.fetchedByApp ?? 0) + 1;
  const headers = new Headers(init.headers);
  if (headers.get('X-App') === 'console') headers.set('Authorization', 'Bearer ' + ${JSON.stringify(APP_TOKEN)});
  return window.fetch(url, { ...init, headers });
};`);
    Object.assign(seen, { authorized: 0, refused: 0, cookies: 0 });
    const { page: tab } = await openConsole();
    await rows(tab).first().waitFor();
    await idle(tab);
    expect(await tab.evaluate(() => (window as unknown as { fetchedByApp: number }).fetchedByApp)).toBe(
      seen.authorized,
    );
    expect(seen.refused).toBe(0);
  });

  it('says a refused request was not authorized, without speaking of a session, and offers the app’s sign-in', async () => {
    page = consolePage(`keys.getToken = async () => 'expired.token';`, ' sign-in-url="/login?next=/console"');
    const { page: tab } = await openConsole();
    const alert = tab.locator('#kw-alert');
    await alert.getByText('not authorized').waitFor();
    expect(await alert.textContent()).not.toMatch(/session/i);
    expect(await alert.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe(
      '/login?next=/console',
    );

    // A `signIn` function instead: a button that runs it; setting a working token loads the list.
    page = consolePage(`keys.getToken = async () => 'expired.token';
keys.signIn = () => { keys.getToken = async () => ${JSON.stringify(APP_TOKEN)}; };`);
    const { page: second } = await openConsole();
    await second.locator('#kw-alert').getByRole('button', { name: 'Sign in again' }).click();
    await rows(second).first().waitFor();
    await expect.poll(() => second.locator('#kw-alert').textContent()).toBe('');
  });
});
