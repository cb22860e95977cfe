// Dashboard v2 in Chromium (issue 12): phone layout, a list that never lies (404/409, focus), paging and
// search, Edit, expiry presets, warnings, the Default tag after a roll, print, and axe-core in both themes.
// The demo runs on a MemoryKeyStore here (the Mongo-backed run is browser.test.ts).

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';
import { launchChromium, requireChromium, SCREENSHOTS, UPDATE_SCREENSHOTS } from './chromium.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let browser: Browser | undefined;
let keyward: Keyward | undefined;
let server: Server | undefined;
let base = '';
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  requireChromium();
  const demo = createDemoApp({ store: new MemoryKeyStore(), pepper: TEST_PEPPER });
  keyward = demo.keyward;
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
  await keyward?.close();
});

type Theme = 'light' | 'dark';

/** A signed-up organization's API keys page; `problems` collects console errors and page errors. */
async function signedIn(options: { width?: number; theme?: Theme; organization?: string } = {}) {
  if (!browser) throw new Error('no browser');
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: options.width ?? 1320, height: 820 },
    colorScheme: options.theme ?? 'light',
  });
  contexts.push(context);
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
  const org = await page.evaluate(async () => {
    const res = await fetch('/api/keys');
    return ((await res.json()) as { data: Array<{ organizationId: string }> }).data[0]?.organizationId ?? '';
  });
  return { page, org, problems };
}

const rows = (page: Page) => page.locator('#kw-rows > tr');
const rowNamed = (page: Page, name: string) =>
  page
    .locator('#kw-rows > tr')
    .filter({ has: page.locator('.kw-name', { hasText: new RegExp(`^${name}$`) }) });

async function pick(page: Page, name: string, item: string) {
  await rowNamed(page, name)
    .getByRole('button', { name: /^Actions for / })
    .click();
  await page.getByRole('menuitem', { name: item }).click();
}

/** axe-core's violations on the page as it is now (evaluated over CDP: the page's CSP stays untouched). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() =>
    // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time.
    (window as any).axe.run(document, { resultTypes: ['violations'] }),
  )) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
  return result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
}

async function reload(page: Page) {
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
}

describe('dashboard v2 in Chromium', () => {
  it('shows every key’s name, key, status and “…” at 375 px without sideways scrolling', async () => {
    const { page, org } = await signedIn({ width: 375 });
    await keyward?.createKey(org, { name: 'Production server with a long name', type: 'secret' });
    await reload(page);
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    for (const row of await rows(page).all()) {
      for (const part of [
        row.locator('.kw-name'),
        row.locator('.kw-key').first(),
        row.locator('.kw-badge'),
        row.getByRole('button', { name: /^Actions for / }),
      ]) {
        const box = await part.boundingBox();
        expect(box).not.toBeNull();
        expect((box?.x ?? -1) >= 0 && (box?.x ?? 0) + (box?.width ?? 0) <= 375).toBe(true);
        expect(await part.isVisible()).toBe(true);
      }
    }
    if (UPDATE_SCREENSHOTS)
      await page.screenshot({ path: new URL('phone-375.png', SCREENSHOTS).pathname, fullPage: true });
  });

  it('reloads the list after a 404 and does not offer the action again', async () => {
    const { page, org } = await signedIn();
    const { key } = (await keyward?.createKey(org, { name: 'Gone soon', type: 'secret' })) ?? {};
    await reload(page);
    await rowNamed(page, 'Gone soon').waitFor();
    await keyward?.deleteKey(org, key?.id ?? '');
    await pick(page, 'Gone soon', 'Disable…');
    const dialog = page.getByRole('dialog', { name: 'Disable this key?' });
    await dialog.getByRole('button', { name: 'Disable key' }).click();
    await dialog.locator('.kw-error-message').waitFor();
    await expect.poll(() => rowNamed(page, 'Gone soon').count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Disable key' }).isDisabled()).toBe(true);
  });

  it('reloads the list when the tab becomes visible again', async () => {
    const { page, org } = await signedIn();
    await keyward?.createKey(org, { name: 'Made elsewhere', type: 'secret' });
    expect(await rowNamed(page, 'Made elsewhere').count()).toBe(0);
    await reload(page);
    await rowNamed(page, 'Made elsewhere').waitFor();
  });

  it('wraps a long unbroken name inside the confirm dialog', async () => {
    const { page, org } = await signedIn();
    const name = 'x'.repeat(100);
    await keyward?.createKey(org, { name, type: 'secret' });
    await reload(page);
    await pick(page, name, 'Delete…');
    const dialog = page.getByRole('dialog', { name: 'Delete this key?' });
    await dialog.waitFor();
    const overflow = await dialog.evaluate((d) => d.scrollWidth - d.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('clears a create-form error on typing and keeps unchecked scopes unchecked across type switches', async () => {
    const { page } = await signedIn();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByText('Give the key a name.').waitFor();
    await dialog.getByLabel('Name').pressSequentially('C');
    expect(await page.locator('#kw-create-error').textContent()).toBe('');
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBeNull();
    await dialog.getByRole('checkbox', { name: 'snippets:read' }).uncheck();
    await dialog.getByText('Public key', { exact: true }).click();
    await dialog.getByText('Secret key', { exact: true }).click();
    expect(await dialog.getByRole('checkbox', { name: 'snippets:read' }).isChecked()).toBe(false);
    expect(await dialog.getByRole('checkbox', { name: 'snippets:write' }).isChecked()).toBe(true);
  });

  it('marks only the new key Default after rolling the Default key, and warns on deleting keys that matter', async () => {
    const { page } = await signedIn();
    await pick(page, 'Default API Key', 'Roll key…');
    await page.getByRole('button', { name: 'Roll key' }).click();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => rows(page).count()).toBe(2);
    expect(await page.locator('#kw-rows .kw-tag', { hasText: 'Default' }).count()).toBe(1);
    expect(await rows(page).first().locator('.kw-tag').textContent()).toBe('Default');
    // The new key is the Default one and its predecessor still works: both are said.
    await rows(page)
      .first()
      .getByRole('button', { name: /^Actions for / })
      .click();
    await page.getByRole('menuitem', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete this key?' });
    await dialog.getByText(/Default key/).waitFor();
    await dialog.getByText(/still works until/).waitFor();
  });

  it('edits a key’s name, scopes and expiry', async () => {
    const { page, org } = await signedIn();
    await keyward?.createKey(org, { name: 'Before', type: 'secret', expiresAt: null });
    await reload(page);
    await pick(page, 'Before', 'Edit…');
    const dialog = page.getByRole('dialog', { name: 'Edit key' });
    await dialog.getByLabel('Name').fill('After');
    await dialog.getByRole('checkbox', { name: 'snippets:write' }).uncheck();
    await dialog.getByLabel('Expires', { exact: true }).selectOption('30');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const row = rowNamed(page, 'After');
    await row.waitFor();
    expect(await row.locator('.kw-scope').allTextContents()).toEqual(['snippets:read']);
    expect(await row.locator('td').nth(3).textContent()).toMatch(
      /^[A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2} [AP]Min (29|30) days$/,
    );
  });

  it('nudges against a secret key that never expires', async () => {
    const { page } = await signedIn();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Expires', { exact: true }).selectOption('never');
    await dialog.getByText(/never expires keeps working if it leaks/).waitFor();
    await dialog.getByText('Public key', { exact: true }).click();
    expect(await dialog.getByText(/keeps working if it leaks/).count()).toBe(0);
  });

  it('searches by name and by last 4, filters by type and status, and pages with Load more', async () => {
    const { page, org } = await signedIn();
    let last = '';
    for (let i = 0; i < 60; i++) {
      const made = await keyward?.createKey(org, { name: `Bulk ${i}`, type: i % 2 ? 'public' : 'secret' });
      if (i === 7) last = made?.token.slice(-4) ?? '';
    }
    await reload(page);
    await expect.poll(() => rows(page).count()).toBe(50);
    await page.getByRole('button', { name: 'Load more keys' }).click();
    await expect.poll(() => rows(page).count()).toBe(61);
    expect(await page.getByRole('button', { name: 'Load more keys' }).isVisible()).toBe(false);
    await page.getByLabel('Search').fill('Bulk 42');
    await expect.poll(() => rows(page).count()).toBe(1);
    await page.getByLabel('Search').fill(last);
    await expect.poll(async () => (await rows(page).allInnerTexts()).join('\n')).toContain('Bulk 7');
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Type').selectOption('public');
    await expect.poll(() => rows(page).count()).toBe(31);
    await page.getByLabel('Status').selectOption('disabled');
    await page.locator('#kw-table-state', { hasText: 'No keys match these filters.' }).waitFor();
  });

  it('runs create → edit → roll → delete with the keyboard only, focus returning to the key', async () => {
    const { page } = await signedIn();
    const focused = () =>
      page.evaluate(
        () =>
          document.activeElement?.getAttribute('aria-label') ??
          document.activeElement?.textContent?.trim() ??
          '',
      );
    await page.getByRole('button', { name: 'New API key' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.type('Keyboard key');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Your new API key' }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(focused).toMatch(/^Actions for Keyboard key/);
    // Edit: the second item.
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Edit key' }).waitFor();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Keyboard edited');
    await page.keyboard.press('Enter');
    await expect.poll(focused).toMatch(/^Actions for Keyboard edited/);
    // Roll: the first item; Tab from Cancel to the grace period, then to Roll key.
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Roll this key?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: /Your new key/ }).waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(focused).toMatch(/^Actions for Keyboard edited/);
    // Delete: the last item.
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Delete this key?' }).waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Delete this key?' }).waitFor({ state: 'hidden' });
    expect(await rowNamed(page, 'Keyboard edited').count()).toBe(1); // the rolled predecessor stays
    expect(await focused()).toBe('New API key'); // where it started: the deleted key's row is gone
  });

  it('prints without buttons and with dates instead of distances', async () => {
    const { page } = await signedIn();
    await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
    expect(await page.getByRole('button', { name: 'New API key' }).isVisible()).toBe(false);
    expect(
      await rows(page)
        .first()
        .getByRole('button', { name: /^Actions for / })
        .isVisible(),
    ).toBe(false);
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(255, 255, 255)');
  });
});

describe('axe-core in Chromium', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`finds no violation in the ${theme} theme in any state`, async () => {
      const { page, org } = await signedIn({ theme });
      const states: Record<string, string[]> = {};
      states.table = await axeViolations(page);

      await page.getByRole('button', { name: 'New API key' }).click();
      states.create = await axeViolations(page);
      await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').fill('Axe');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('dialog', { name: 'Your new API key' }).waitFor();
      states.token = await axeViolations(page);
      await page.getByRole('button', { name: 'Done' }).click();

      await rowNamed(page, 'Axe')
        .getByRole('button', { name: /^Actions for / })
        .click();
      await page.getByRole('menuitem', { name: 'Edit…' }).waitFor();
      states.menu = await axeViolations(page);
      await page.getByRole('menuitem', { name: 'Edit…' }).click();
      states.edit = await axeViolations(page);
      await page.getByRole('button', { name: 'Cancel' }).click();

      for (const item of ['Roll key…', 'Disable…', 'Delete…']) {
        await pick(page, 'Axe', item);
        await page.getByRole('dialog').filter({ hasText: /\?/ }).waitFor();
        states[`confirm ${item}`] = await axeViolations(page);
        await page.getByRole('button', { name: 'Cancel' }).click();
      }
      if (UPDATE_SCREENSHOTS && theme === 'dark')
        await page.screenshot({ path: new URL('key-table-dark.png', SCREENSHOTS).pathname });

      for (let i = 0; i < 60; i++) await keyward?.createKey(org, { name: `Paged ${i}`, type: 'secret' });
      await reload(page);
      await expect.poll(() => rows(page).count()).toBe(50);
      states['60 keys paged'] = await axeViolations(page);

      await page.setViewportSize({ width: 375, height: 820 });
      states['375 px'] = await axeViolations(page);

      await page.getByLabel('Status').selectOption('expired');
      await page.locator('#kw-table-state', { hasText: 'No keys match' }).waitFor();
      states['0 keys'] = await axeViolations(page);

      console.log(
        `[axe ${theme}] ${Object.entries(states)
          .map(([s, v]) => `${s}: ${v.length}`)
          .join(', ')}`,
      );
      expect(states).toEqual(Object.fromEntries(Object.keys(states).map((s) => [s, []])));
    });
  }

  it('finds the dark theme danger button readable (color-contrast, enabled and hovered)', async () => {
    const { page } = await signedIn({ theme: 'dark' });
    await pick(page, 'Default API Key', 'Delete…');
    const button = page.getByRole('button', { name: 'Delete key' });
    await button.waitFor();
    await page.evaluate(AXE_SOURCE);
    const contrast = () =>
      page.evaluate(() =>
        // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time.
        (window as any).axe
          .run('#kw-confirm-ok', { runOnly: ['color-contrast'] })
          .then((r: { violations: unknown[]; passes: unknown[] }) => [r.violations.length, r.passes.length]),
      );
    expect(await contrast()).toEqual([0, 1]);
    await button.hover();
    expect(await contrast()).toEqual([0, 1]);
  });

  it('finds no violation on a page of an organization with 0 keys', async () => {
    const { page, org } = await signedIn();
    const { keys } = (await keyward?.listKeys(org)) ?? { keys: [] };
    for (const key of keys) await keyward?.deleteKey(org, key.id);
    await reload(page);
    await page.locator('#kw-table-state', { hasText: 'No API keys yet' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
  });
});
