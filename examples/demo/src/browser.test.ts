import { TEST_PEPPER } from '@keyward/core/testing';
// The demo in a real browser: Chromium driven by playwright-core, the demo listening on 127.0.0.1 with its
// keys in MongoDB (the test database). CI installs Chromium; without it these tests fail, they never skip.

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminRouter, createDashboardRouter } from '@keyward/admin';
import { createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { MongoKeyStore } from '@keyward/mongo';
import { useTestDatabase } from '@keyward/test-db';
import express from 'express';
import mongoose from 'mongoose';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDemoApp, DEMO_PUBLIC_SCOPES, DEMO_SCOPES } from './app.js';
import { launchChromium, requireChromium, SCREENSHOTS, UPDATE_SCREENSHOTS } from './chromium.js';
import { pinnedClock } from './pinned-clock.js';

const SECRET_TOKEN = /^kw_sk_[0-9A-Za-z]{38}$/;
const PUBLIC_TOKEN = /^kw_pk_[0-9A-Za-z]{38}$/;

const db = useTestDatabase('demo-browser');
let browser: Browser | undefined;
let connection: mongoose.Connection | undefined;
let store: MongoKeyStore | undefined;
let keyward: Keyward | undefined;
let server: Server | undefined;
let base = '';
// The server and the pages run on one pinned clock: what the page shows does not depend on today's date.
const clock = pinnedClock();

// Without Chromium every test fails with this message (a failing beforeAll would mark them skipped).
beforeEach(requireChromium);

beforeAll(async () => {
  connection = await mongoose.createConnection(db.uri).asPromise();
  store = new MongoKeyStore({ connection });
  const demo = createDemoApp({ store, clock: clock.now });
  keyward = demo.keyward;
  server = await listen(demo.app);
  base = origin(server);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  await keyward?.close();
  await store?.close();
  await connection?.close();
});

async function listen(app: express.Express): Promise<Server> {
  const listening = app.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  return listening;
}

function origin(listening: Server): string {
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
}

/**
 * A page in a fresh context (en-US, UTC, clipboard allowed) that records every request it makes, every
 * console error or warning, page error and CSP violation.
 */
async function openPage(at: string) {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1320, height: 820 },
  });
  await clock.install(context);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: at });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console.${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  /**
   * What must hold at the end of every browser test: no console error or warning, page error or CSP
   * violation (but one per `expected` pattern, e.g. the failed request of an API error the test caused),
   * and no request outside the server under test.
   */
  const expectCleanRun = (expected: RegExp[] = []) => {
    const unexpected = [...problems];
    for (const pattern of expected) {
      const index = unexpected.findIndex((problem) => pattern.test(problem));
      expect(index, `expected a console message matching ${pattern}`).toBeGreaterThanOrEqual(0);
      unexpected.splice(index, 1);
    }
    expect(unexpected).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((url) => !url.startsWith(`${at}/`) && !url.startsWith('data:'))).toEqual([]);
  };
  return { context, page, requests, problems, expectCleanRun };
}

/** Signs up through the sign-up page and lands on the API keys page. */
async function signUp(page: Page, organization: string) {
  await page.goto(`${base}/`);
  await page.getByLabel('Organization name').fill(organization);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.waitForURL(`${base}/dashboard/api-keys`);
  await rows(page).first().waitFor();
}

const rows = (page: Page) => page.locator('#kw-rows > tr');
const rowOf = (page: Page, id: string) => page.locator(`#kw-rows > tr[data-key-id="${id}"]`);
const actionsOf = (row: Locator) => row.getByRole('button', { name: /^Actions for / });

/** The text as rendered (CSS applied, hidden parts left out). */
function shown(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText(), the rendered text, is the point.
  return locator.innerText();
}

/** The text of one column of a row (0: Name … 6: Status), normalized. */
async function cell(row: Locator, column: number): Promise<string> {
  const text = await shown(row.locator(':scope > th, :scope > td').nth(column));
  return text.replace(/\s+/g, ' ').trim();
}

/** What `GET /v1/whoami` answers: the key on success, the error on refusal. */
interface WhoamiBody {
  apiKey: { id: string; organizationId: string; name: string; type: string; scopes: string[] };
  error: { code: string; message: string };
}

async function whoami(token: string) {
  const res = await fetch(`${base}/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, sunset: res.headers.get('sunset'), body: (await res.json()) as WhoamiBody };
}

/** Opens the "…" menu of a row with the mouse and picks an item. */
async function pick(page: Page, row: Locator, item: string) {
  await actionsOf(row).click();
  await page.getByRole('menuitem', { name: item }).click();
}

async function activeElement(page: Page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    return {
      label: element?.getAttribute('aria-label') ?? element?.textContent?.trim() ?? '',
      role: element?.getAttribute('role') ?? element?.tagName.toLowerCase() ?? '',
      id: element?.id ?? '',
      outline: element ? getComputedStyle(element).outlineStyle : 'none',
    };
  });
}

describe('the API keys page in Chromium', () => {
  it('signs up, creates a secret key, copies it, uses it, rolls, disables, enables and deletes it', async () => {
    const { page, expectCleanRun } = await openPage(base);
    await signUp(page, 'Acme');

    // The default key: public, active, never used; it can be shown in full and hidden again.
    expect(await rows(page).count()).toBe(1);
    const defaultRow = rows(page).first();
    // The demo's default limits for public keys (docs/reference.md §6) are in the policy line.
    expect(await cell(defaultRow, 0)).toBe(
      'Default API Key Default snippets:read Policies: 10 / second · 10,000 / day',
    );
    expect(await cell(defaultRow, 1)).toBe('Public');
    expect(await cell(defaultRow, 6)).toBe('Active');
    // Last used: never (the cell's first part; its 7-day sparkline follows).
    expect(await shown(defaultRow.locator('.kw-cell-used > :first-child'))).toBe('Never');
    const shownKey = defaultRow.locator('code.kw-key');
    expect(await shown(shownKey)).toMatch(/^kw_pk_…[0-9A-Za-z]{4}$/);
    await defaultRow.getByRole('button', { name: 'Show the key Default API Key' }).click();
    expect(await shown(shownKey)).toMatch(PUBLIC_TOKEN);
    await defaultRow.getByRole('button', { name: 'Hide the key Default API Key' }).click();
    expect(await shown(shownKey)).toMatch(/^kw_pk_…/);

    // The new-key dialog: name first; the scopes follow the type (public keys: the public ceiling only).
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key', exact: true });
    await dialog.waitFor();
    expect((await activeElement(page)).id).toBe('kw-create-name');
    const read = dialog.getByRole('checkbox', { name: /snippets:read/ });
    const write = dialog.getByRole('checkbox', { name: /snippets:write/ });
    await dialog.getByRole('radio', { name: /Public key/ }).check();
    expect([await read.isChecked(), await read.isDisabled()]).toEqual([true, false]);
    expect([await write.isChecked(), await write.isDisabled()]).toEqual([false, true]);
    await dialog.getByRole('radio', { name: /Secret key/ }).check();
    expect([await read.isChecked(), await write.isChecked(), await write.isDisabled()]).toEqual([
      true,
      true,
      false,
    ]);

    // An API error is shown with the server's message; Cancel, and the form starts afresh next time.
    await dialog.getByLabel('Name').fill('Too late');
    await dialog.getByLabel('Expires', { exact: true }).selectOption('date');
    await dialog.getByLabel(/Expiration date/).fill('2020-01-01');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const error = dialog.getByRole('alert');
    await error.getByText('The request is invalid.').waitFor();
    expect(await shown(error)).toContain('Expiration date: Must be in the future.');
    expect(await dialog.getByLabel(/Expiration date/).getAttribute('aria-invalid')).toBe('true');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await rows(page).count()).toBe(1);

    await page.getByRole('button', { name: 'New API key' }).click();
    expect(await dialog.getByLabel('Name').inputValue()).toBe('');
    expect(await page.locator('#kw-create-error').textContent()).toBe('');
    await dialog.getByLabel('Name').fill('Deploy bot');
    const expiry = new Date(clock.now() + 20 * 86_400_000).toISOString().slice(0, 10);
    await dialog.getByLabel('Expires', { exact: true }).selectOption('date');
    await dialog.getByLabel(/Expiration date/).fill(expiry);
    await dialog.getByLabel('Name').focus();
    if (UPDATE_SCREENSHOTS)
      await page.screenshot({ path: new URL('new-key-dialog.png', SCREENSHOTS).pathname });
    await dialog.getByRole('button', { name: 'Create key' }).click();

    // The token, shown once, copied to the clipboard, and gone once the dialog is closed.
    const tokenDialog = page.getByRole('dialog', { name: 'Your new API key', exact: true });
    await tokenDialog.waitFor();
    expect(await dialog.isVisible()).toBe(false);
    const token = await tokenDialog.getByLabel('API key', { exact: true }).inputValue();
    expect(token).toMatch(SECRET_TOKEN);
    await tokenDialog.getByRole('button', { name: 'Copy', exact: true }).click();
    await tokenDialog.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await tokenDialog.getByRole('button', { name: 'Done' }).click();
    await tokenDialog.waitFor({ state: 'hidden' });
    const tokenOnPage = (value: string) =>
      page.evaluate(
        (t) =>
          document.documentElement.outerHTML.includes(t) ||
          [...document.querySelectorAll('input')].some((input) => input.value.includes(t)),
        value,
      );
    await expect.poll(() => tokenOnPage(token)).toBe(false);
    expect((await activeElement(page)).label).toMatch(/^Actions for Deploy bot/);

    // The new key in the table: secret (never shown again), expiring in about 30 days, never used.
    const secretRow = rows(page).filter({ hasText: 'Deploy bot' });
    const id = (await secretRow.getAttribute('data-key-id')) as string;
    expect(await rows(page).first().getAttribute('data-key-id')).toBe(id);
    expect(await cell(secretRow, 1)).toBe('Secret');
    expect(await cell(secretRow, 2)).toBe(`kw_sk_…${token.slice(-4)}`);
    expect(await secretRow.getByRole('button', { name: /^Show/ }).count()).toBe(0);
    expect(await cell(secretRow, 4)).toMatch(/^[A-Z][a-z]{2} \d{1,2}, 11:59 PM in 20 days$/);
    expect(await secretRow.locator('td').nth(3).locator('time').first().getAttribute('title')).toMatch(
      /\d{4} at \d/,
    );
    expect(await cell(secretRow, 6)).toBe('Active');

    // The key works.
    const first = await whoami(token);
    expect(first.status).toBe(200);
    expect(first.body.apiKey).toMatchObject({ id, name: 'Deploy bot', type: 'secret' });

    // Roll it: a new token, shown once; the old key is listed right below it as rolled, with its end time.
    await pick(page, secretRow, 'Roll key…');
    const rollDialog = page.getByRole('dialog', { name: 'Roll this key?', exact: true });
    await rollDialog.waitFor();
    expect(await rollDialog.getByLabel('Keep the old key working for').inputValue()).toBe('43200');
    await rollDialog.getByRole('button', { name: 'Roll key' }).click();
    const rolledDialog = page.getByRole('dialog', { name: 'Your new key (rolled)', exact: true });
    await rolledDialog.waitFor();
    const newToken = await rolledDialog.getByLabel('API key', { exact: true }).inputValue();
    expect(newToken).toMatch(SECRET_TOKEN);
    expect(newToken).not.toBe(token);
    // 11 hours and some minutes, or 12 when the page's clock is behind the server's by more than the time
    // since the roll (Playwright installs the page clock a moment after the server's was read).
    expect(await shown(rolledDialog)).toMatch(/The old key keeps working until .+ \(in 1[12] hours\)/);
    await rolledDialog.getByRole('button', { name: 'Done' }).click();
    await rolledDialog.waitFor({ state: 'hidden' });
    await expect.poll(() => tokenOnPage(newToken)).toBe(false);

    const newRow = rows(page).first();
    const newId = (await newRow.getAttribute('data-key-id')) as string;
    expect(newId).not.toBe(id);
    const oldRow = rowOf(page, id);
    expect(await rows(page).nth(1).getAttribute('data-key-id')).toBe(id);
    expect(await cell(newRow, 6)).toBe('Active');
    // Used just before the roll (lastUsedAt is accurate to about a minute): no use seen since.
    expect(await cell(oldRow, 6)).toMatch(
      /^Rolled until [A-Z][a-z]{2} \d{1,2}(, \d{4})?, \d{1,2}:\d{2} [AP]M no use seen since the roll$/,
    );
    expect(await cell(oldRow, 4)).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2} [AP]M in 1[12] hours$/);
    const end = Date.parse(
      (await oldRow.locator('td').nth(5).locator('time').getAttribute('datetime')) as string,
    );
    expect(Math.abs(end - (clock.now() + 12 * 3_600_000))).toBeLessThan(60_000);
    expect(await oldRow.locator('td').nth(5).locator('time').getAttribute('title')).toMatch(/UTC$/);
    expect(await cell(oldRow, 0)).toContain(`Replaced by kw_sk_…${newToken.slice(-4)}`);

    // Both keys work; the old one says when it stops. Once used, the page says when it was last used.
    const old = await whoami(token);
    expect(old.status).toBe(200);
    expect(Date.parse(old.sunset as string)).toBe(Math.floor(end / 1000) * 1000);
    const rolled = await whoami(newToken);
    expect([rolled.status, rolled.body.apiKey.id]).toEqual([200, newId]);
    await keyward?.flushUsage();
    await page.reload();
    await rowOf(page, id).waitFor();
    expect(await shown(rowOf(page, id).locator('.kw-cell-used > :first-child'))).toMatch(
      /^(now|\d+ seconds? ago)$/,
    );
    if (UPDATE_SCREENSHOTS) {
      await page
        .locator('#kw-dashboard')
        .screenshot({ path: new URL('key-table.png', SCREENSHOTS).pathname });
    }

    // A rolled key cannot be rolled again: its menu item is disabled.
    await actionsOf(rowOf(page, id)).click();
    expect(await page.getByRole('menuitem', { name: 'Roll key…' }).getAttribute('aria-disabled')).toBe(
      'true',
    );
    await page.keyboard.press('Escape');

    // Disable, then enable again, each confirmed.
    await pick(page, rowOf(page, newId), 'Disable…');
    const disableDialog = page.getByRole('dialog', { name: 'Disable this key?', exact: true });
    await disableDialog.getByRole('button', { name: 'Disable key' }).click();
    await disableDialog.waitFor({ state: 'hidden' });
    expect(await cell(rowOf(page, newId), 6)).toBe('Disabled');
    expect((await whoami(newToken)).body.error.code).toBe('disabled_api_key');
    await pick(page, rowOf(page, newId), 'Enable…');
    const enableDialog = page.getByRole('dialog', { name: 'Enable this key?', exact: true });
    await enableDialog.getByRole('button', { name: 'Enable key' }).click();
    await enableDialog.waitFor({ state: 'hidden' });
    expect(await cell(rowOf(page, newId), 6)).toBe('Active');
    expect((await whoami(newToken)).status).toBe(200);

    // Delete: cancelling keeps the key; confirming removes it, and the key stops working.
    await pick(page, rowOf(page, newId), 'Delete…');
    const deleteDialog = page.getByRole('dialog', { name: 'Delete this key?', exact: true });
    await deleteDialog.getByRole('button', { name: 'Cancel' }).click();
    await deleteDialog.waitFor({ state: 'hidden' });
    expect(await rowOf(page, newId).count()).toBe(1);
    await expect
      .poll(async () => (await activeElement(page)).label)
      .toMatch(/^Actions for Deploy bot \(kw_sk_…/);
    await pick(page, rowOf(page, newId), 'Delete…');
    await deleteDialog.getByRole('button', { name: 'Delete key' }).click();
    await deleteDialog.waitFor({ state: 'hidden' });
    await rowOf(page, newId).waitFor({ state: 'detached' });
    expect(await rows(page).count()).toBe(2);
    const gone = await whoami(newToken);
    expect([gone.status, gone.body.error.code]).toEqual([401, 'invalid_api_key']);

    // The one failed request is the refused expiration date above.
    expectCleanRun([/^console\.error: Failed to load resource: the server responded with a status of 400/]);
  });

  it('runs the "…" menu, its confirmation and the new-key dialog with the keyboard only', async () => {
    const { page, expectCleanRun } = await openPage(base);
    await page.goto(`${base}/`);
    // The organization field has the focus.
    await page.keyboard.type('Keyboard Co');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/dashboard/api-keys`);
    await rows(page).first().waitFor();

    // Tab to the default key's "…" button.
    for (let i = 0; i < 20 && !(await activeElement(page)).label.startsWith('Actions for'); i++) {
      await page.keyboard.press('Tab');
    }
    const button = await activeElement(page);
    expect(button.label).toMatch(/^Actions for Default API Key \(kw_pk_…/);
    expect(button.outline).not.toBe('none');
    const menuButton = actionsOf(rows(page).first());
    const focused = async () => (await activeElement(page)).label;

    await page.keyboard.press('Enter');
    expect(await menuButton.getAttribute('aria-expanded')).toBe('true');
    expect(await focused()).toBe('Roll key…');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Edit…');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Disable…');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Show usage');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Show history');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Delete…');
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toBe('Roll key…');
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toBe('Delete…');
    await page.keyboard.press('Home');
    expect(await focused()).toBe('Roll key…');
    await page.keyboard.press('End');
    expect(await focused()).toBe('Delete…');
    await page.keyboard.press('Escape');
    expect(await menuButton.getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByRole('menu').count()).toBe(0);
    expect(await focused()).toMatch(/^Actions for Default API Key/);

    // ArrowUp opens on the last item; Tab closes the menu and moves on.
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toBe('Delete…');
    await page.keyboard.press('Tab');
    expect(await menuButton.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toMatch(/^Actions for Default API Key/);

    // Escape closes the confirmation without doing anything, and the focus comes back to the button.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Disable this key?', exact: true });
    await dialog.waitFor();
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(focused).toMatch(/^Actions for Default API Key/);
    expect(await cell(rows(page).first(), 6)).toBe('Active');

    // Confirm with the keyboard: Tab to the confirm button, Enter.
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Disable key');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    expect(await cell(rows(page).first(), 6)).toBe('Disabled');
    await expect.poll(focused).toMatch(/^Actions for Default API Key/);

    // The new-key dialog: Escape closes it and gives the focus back to "New API key".
    for (let i = 0; i < 20 && (await focused()) !== 'New API key'; i++)
      await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('New API key');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'New API key', exact: true }).waitFor();
    expect((await activeElement(page)).id).toBe('kw-create-name');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'New API key', exact: true }).waitFor({ state: 'hidden' });
    await expect.poll(focused).toBe('New API key');

    expectCleanRun();
  });

  it('works at another mount path, against an admin API mounted somewhere else', async () => {
    const other = createKeyward({
      store: new MemoryKeyStore(),
      scopes: DEMO_SCOPES,
      publicScopes: DEMO_PUBLIC_SCOPES,
      pepper: TEST_PEPPER,
    });
    await other.provisionOrganization('org_team');
    const app = express();
    app.use(
      '/internal/keys-api',
      createAdminRouter({ keyward: other, authorize: () => ({ organizationId: 'org_team' }) }),
    );
    app.use(
      '/settings/team/api-keys',
      createDashboardRouter({ apiUrl: '/internal/keys-api/', title: 'Team keys' }),
    );
    const listening = await listen(app);
    const at = origin(listening);
    try {
      const { page, expectCleanRun } = await openPage(at);
      await page.goto(`${at}/settings/team/api-keys/`);
      expect(await shown(page.getByRole('heading', { level: 1 }))).toBe('Team keys');
      await rows(page).first().waitFor();
      expect(await cell(rows(page).first(), 0)).toContain('Default API Key');

      await page.getByRole('button', { name: 'New API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'New API key', exact: true });
      await dialog.getByLabel('Name').fill('Website');
      await dialog.getByRole('radio', { name: /Public key/ }).check();
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const tokenDialog = page.getByRole('dialog', { name: 'Your new API key', exact: true });
      const token = await tokenDialog.getByLabel('API key', { exact: true }).inputValue();
      expect(token).toMatch(PUBLIC_TOKEN);
      await tokenDialog.getByRole('button', { name: 'Done' }).click();
      const row = rows(page).filter({ hasText: 'Website' });
      await row.getByRole('button', { name: 'Show the key Website' }).click();
      expect(await shown(row.locator('code.kw-key'))).toBe(token);
      expect((await other.listKeys('org_team')).keys.map((k) => k.name).sort()).toEqual([
        'Default API Key',
        'Website',
      ]);
      expectCleanRun();
    } finally {
      listening.close();
    }
  });
});

describe('cross-site request forgery in Chromium', () => {
  /**
   * The attack of the issue: the victim is signed in to the demo on http://127.0.0.1:<A>; a page on
   * http://127.0.0.1:<B> — another origin, but the same site, so the browser sends the SameSite=Lax
   * session cookie along — posts an empty form and a no-cors fetch to the roll route.
   */
  it('refuses an empty form POST and a no-cors fetch from another port to roll a key, and the key stays', async () => {
    // The demo (keys in MongoDB), behind a recorder of what reaches the roll route.
    const seen: Array<{ cookie: boolean; origin?: string; site?: string; type?: string }> = [];
    const demo = createDemoApp({ store: store as MongoKeyStore });
    const victimApp = express();
    victimApp.use((req, _res, next) => {
      if (req.method === 'POST' && req.path.endsWith('/roll')) {
        seen.push({
          cookie: /(?:^|;\s*)kw_demo_session=/.test(req.headers.cookie ?? ''),
          origin: req.headers.origin,
          site: req.headers['sec-fetch-site'] as string | undefined,
          type: req.headers['content-type'],
        });
      }
      next();
    });
    victimApp.use(demo.app);
    const victim = await listen(victimApp);
    const at = origin(victim);

    // The other origin: a page with an empty form and a script that fetches without CORS.
    let attackUrl = '';
    const attackerApp = express();
    attackerApp.get('/', (_req, res) => {
      res.type('html').send(`<!doctype html><html><head><title>Win a prize</title></head><body>
<form id="attack" method="POST" action="${attackUrl}"></form>
<script>
window.attack = () =>
  fetch(${JSON.stringify(attackUrl)}, { method: 'POST', mode: 'no-cors', credentials: 'include' }).then(
    () => 'sent',
    (error) => 'failed: ' + error,
  );
</script></body></html>`);
    });
    const attacker = await listen(attackerApp);
    const attackerOrigin = origin(attacker);
    expect(new URL(attackerOrigin).hostname).toBe(new URL(at).hostname);
    expect(attackerOrigin).not.toBe(at);

    try {
      if (!browser) throw new Error('no browser');
      const context = await browser.newContext({ locale: 'en-US', timezoneId: 'UTC' });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);

      // Sign up as the victim; the API keys page shows the default key.
      await page.goto(`${at}/`);
      await page.getByLabel('Organization name').fill('Victim Inc');
      await page.getByRole('button', { name: 'Create organization' }).click();
      await page.waitForURL(`${at}/dashboard/api-keys`);
      await rows(page).first().waitFor();
      const id = (await rows(page).first().getAttribute('data-key-id')) as string;
      expect(id).toMatch(/^key_/);
      const before = await page.evaluate(async (url) => (await fetch(url)).json(), `${at}/api/keys/${id}`);
      expect(before.data).toMatchObject({ id, status: 'active', rolledAt: null, replacedBy: null });
      attackUrl = `${at}/api/keys/${id}/roll`;

      // The attacker's page, in the same browser (it has the victim's cookie jar).
      const evil = await context.newPage();
      evil.setDefaultTimeout(10_000);
      const statuses: number[] = [];
      context.on('response', (response) => {
        if (response.url() === attackUrl) statuses.push(response.status());
      });
      await evil.goto(`${attackerOrigin}/`);
      expect(await evil.evaluate(() => (window as unknown as { attack(): Promise<string> }).attack())).toBe(
        'sent',
      );
      const formAnswer = evil.waitForResponse((response) => response.url() === attackUrl);
      await evil.evaluate(() => (document.getElementById('attack') as HTMLFormElement).submit());
      await formAnswer;

      // Both requests reached the server with the session cookie, from the other origin, and were refused.
      expect(seen).toHaveLength(2);
      for (const request of seen) {
        expect(request).toMatchObject({ cookie: true, origin: attackerOrigin, site: 'same-site' });
      }
      expect(seen[1]?.type).toBe('application/x-www-form-urlencoded');
      // 403: the cross-origin check comes first (the 415 for the missing JSON type would refuse them too).
      expect(statuses).toEqual([403, 403]);

      // The key is not rolled: checked through the API, as the victim.
      const after = await page.evaluate(async (url) => (await fetch(url)).json(), `${at}/api/keys`);
      expect(after.data).toHaveLength(1);
      expect(after.data[0]).toMatchObject({ id, status: 'active', rolledAt: null, replacedBy: null });
      await context.close();
    } finally {
      victim.close();
      attacker.close();
      demo.close();
    }
  });
});
