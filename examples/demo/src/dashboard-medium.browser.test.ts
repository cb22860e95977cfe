// The dashboard's smaller defects in Chromium: search answers out of order, focus after
// "Load more" and after errors, "Sign in again" in the dialogs, reload on window focus, announced search
// results, input and placeholder contrast, print in a dark OS theme, and Activity naming keys.

import { describe, expect, it } from 'vitest';
import {
  axeViolations,
  contrastOf,
  pick,
  reload,
  rowNamed,
  rows,
  useDashboard,
} from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

describe('dashboard, smaller defects', () => {
  it('ignores a search answer that arrives after a newer one, and announces the results', async () => {
    const { page, org } = await signedIn();
    await keyward().createKey(org, { name: 'Alpha', type: 'secret' });
    await keyward().createKey(org, { name: 'Alto', type: 'secret' });
    await reload(page);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route(
      (url) => url.pathname === '/api/keys/' && url.searchParams.get('q') === 'Al',
      async (route) => {
        await held;
        await route.continue();
      },
    );
    const slow = page.waitForRequest((r) => new URL(r.url()).searchParams.get('q') === 'Al');
    await page.getByLabel('Search').fill('Al');
    await slow;
    await page.getByLabel('Search').fill('Alp');
    await expect.poll(() => rows(page).count()).toBe(1);
    await expect.poll(() => page.locator('#kw-announcer').textContent()).toBe('1 key found.');
    const late = page.waitForResponse((r) => new URL(r.url()).searchParams.get('q') === 'Al');
    release();
    await (await late).finished();
    // Let the page handle the late answer (a task or two), then the list must still be "Alp"'s.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
    expect(await rows(page).count()).toBe(1);
    expect(await rowNamed(page, 'Alpha').count()).toBe(1);
  });

  it('puts the focus on the first new row after “Load more keys”, not on the body', async () => {
    const { page, org } = await signedIn();
    for (let i = 0; i < 55; i++) await keyward().createKey(org, { name: `Many ${i}`, type: 'secret' });
    await reload(page);
    await page.getByRole('button', { name: 'Load more keys' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => rows(page).count()).toBe(56);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label')))
      .toMatch(/^Actions for /);
    expect(
      await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-key-id')),
    ).toBe(await rows(page).nth(50).getAttribute('data-key-id'));
  });

  it('puts the focus on the error when a reload fails', async () => {
    const { page, org } = await signedIn();
    for (let i = 0; i < 55; i++) await keyward().createKey(org, { name: `Many ${i}`, type: 'secret' });
    await reload(page);
    await page.route('**/api/keys/?*cursor=*', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: '{"error":{"code":"x","message":"Down."}}',
      }),
    );
    await page.getByRole('button', { name: 'Load more keys' }).click();
    await page.locator('#kw-alert').getByText('Down.').waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('kw-alert');
    expect(await axeViolations(page)).toEqual([]);
  });

  it('offers “Sign in again” in the Edit and New key dialogs after a 401', async () => {
    const { page } = await signedIn();
    await page.context().clearCookies();
    await pick(page, 'Default API Key', 'Edit…');
    const edit = page.getByRole('dialog', { name: 'Edit key' });
    await edit.getByLabel('Name').fill('Renamed');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await edit.getByRole('link', { name: 'Sign in again' }).waitFor();
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'New API key' }).click();
    const create = page.getByRole('dialog', { name: 'New API key' });
    await create.getByLabel('Name').fill('Late');
    await create.getByRole('button', { name: 'Create key' }).click();
    await create.getByRole('link', { name: 'Sign in again' }).waitFor();
    expect(await create.textContent()).not.toMatch(/session/i);
  });

  it('reloads the list when the window regains focus', async () => {
    const { page, org } = await signedIn();
    await keyward().createKey(org, { name: 'Made in another window', type: 'secret' });
    await page.evaluate(() => {
      window.dispatchEvent(new Event('blur'));
      window.dispatchEvent(new Event('focus'));
    });
    await rowNamed(page, 'Made in another window').waitFor();
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`gives inputs a border of at least 3:1 and placeholders 4.5:1 (${theme})`, async () => {
      const { page } = await signedIn({ theme });
      const ratios = await page.evaluate(() => {
        const rgb = (color: string) => (color.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const lum = (color: string) => {
          const [r, g, b] = rgb(color).map((v) => {
            const c = v / 255;
            return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
        };
        const ratio = (a: string, b: string) => {
          const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
          return ((x ?? 0) + 0.05) / ((y ?? 0) + 0.05);
        };
        const search = document.getElementById('kw-search') as HTMLInputElement;
        const style = getComputedStyle(search);
        const around = getComputedStyle(search.closest('.kw-sticky') ?? document.body).backgroundColor;
        const placeholder = getComputedStyle(search, '::placeholder').color;
        return {
          border: ratio(style.borderTopColor, around),
          placeholder: ratio(placeholder, style.backgroundColor),
        };
      });
      expect(ratios.border).toBeGreaterThanOrEqual(3);
      expect(ratios.placeholder).toBeGreaterThanOrEqual(4.5);
      expect(await contrastOf(page, '#kw-search')).toEqual([0, expect.any(Number)]);
    });
  }

  it('prints light badges on white in a dark OS theme, and the table fits the page', async () => {
    const { page, org } = await signedIn({ theme: 'dark' });
    await keyward().createKey(org, { name: 'A key with a rather long name for printing', type: 'secret' });
    await reload(page);
    await page.emulateMedia({ media: 'print', colorScheme: 'dark' });
    const printed = await page.evaluate(() => ({
      body: getComputedStyle(document.body).backgroundColor,
      badge: getComputedStyle(document.querySelector('.kw-badge') as Element).color,
      tableWidth: (document.querySelector('.kw-table') as HTMLElement).scrollWidth,
    }));
    expect(printed.body).toBe('rgb(255, 255, 255)');
    // A dark badge text on white paper, not the dark theme's light green.
    const [r, g, b] = (printed.badge.match(/\d+/g) ?? []).map(Number);
    expect((r ?? 255) + (g ?? 255) + (b ?? 255)).toBeLessThan(300);
    await page.setViewportSize({ width: 700, height: 900 });
    expect(
      await page.evaluate(() => (document.querySelector('.kw-table') as HTMLElement).scrollWidth),
    ).toBeLessThanOrEqual(700);
    expect(await contrastOf(page, '.kw-badge')).toEqual([0, expect.any(Number)]);
  });

  it('shows the redacted key and a readable address in Activity, not raw ids', async () => {
    const { page } = await signedIn();
    await pick(page, 'Default API Key', 'Disable…');
    await page.getByRole('button', { name: 'Disable key' }).click();
    await expect.poll(() => page.locator('#kw-events > li').count()).toBe(2);
    const first = page.locator('#kw-events > li').first();
    const redacted = await rowNamed(page, 'Default API Key').locator('.kw-key').first().textContent();
    expect(await first.locator('.kw-event-key').textContent()).toBe(`Default API Key (${redacted})`);
    expect(await first.locator('.kw-event-who').textContent()).not.toContain('::ffff:');
    expect(await axeViolations(page)).toEqual([]);
  });
});

describe('dashboard, first run', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`names the organization, shows how to call the API with a new key, and signs out (${theme})`, async () => {
      const { page } = await signedIn({ theme, organization: 'Initech' });
      expect(await page.locator('#kw-organization').textContent()).toBe('Organization: Initech');
      await page.getByRole('button', { name: 'New API key' }).click();
      const create = page.getByRole('dialog', { name: 'New API key' });
      await create.getByLabel('Name').fill('First call');
      await create.getByRole('button', { name: 'Create key' }).click();
      const dialog = page.getByRole('dialog', { name: 'Your new API key' });
      const call = dialog.getByRole('region', { name: 'Call the API' });
      await expect.poll(() => dialog.getByLabel('API key', { exact: true }).inputValue()).toMatch(/^kw_sk_/);
      const token = await dialog.getByLabel('API key', { exact: true }).inputValue();
      expect(await call.locator('#kw-call-base').textContent()).toBe(`${demo.base()}/v1`);
      expect(await call.locator('#kw-call-header').textContent()).toBe(`Authorization: Bearer ${token}`);
      const curl = await call.getByLabel('With curl').inputValue();
      expect(curl).toBe(`curl -H 'Authorization: Bearer ${token}' ${demo.base()}/v1/whoami`);
      // The line works: the same request, made from here, is answered 200 for the new key.
      const [, header, url] = curl.match(/^curl -H '([^']+)' (\S+)$/) ?? [];
      const [name, value] = (header ?? '').split(': ');
      const answer = await fetch(url ?? '', { headers: { [name ?? '']: value ?? '' } });
      expect(answer.status).toBe(200);
      expect(await axeViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Done' }).click();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Organization name').waitFor();
      expect((await page.request.get(`${demo.base()}/api/keys`)).status()).toBe(401);
    });
  }
});
