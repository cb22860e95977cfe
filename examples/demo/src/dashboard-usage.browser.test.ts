// The dashboard's usage charts in Chromium (docs/reference.md §9): after a scripted sequence of admitted
// and refused calls over HTTP, a key's 7-day sparkline in the table, its chart (from its "…" menu) and the
// organization's show the right numbers, with a table alternative; axe-core in both themes and at 375 px;
// keyboard only; print; and a row's "…" menu that stays open while the page scrolls under it.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, reload, rowNamed, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

/**
 * With a new public key "Counted": three admitted calls, one refused for its type (a public key on a
 * secret-key route) and one refused for a scope it does not hold; counts flushed.
 */
async function callWith(org: string) {
  const { token } = await keyward().createKey(org, {
    name: 'Counted',
    type: 'public',
    scopes: [],
    limits: [],
  });
  const call = (method: string, path: string) =>
    fetch(`${demo.base()}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: method === 'POST' ? '{}' : undefined,
    });
  for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/whoami')).status).toBe(200);
  expect((await call('POST', '/v1/snippets')).status).toBe(403);
  expect((await call('GET', '/v1/snippets')).status).toBe(403);
  await keyward().flushUsage();
}

const usagePanel = (page: Page) => page.getByRole('region', { name: 'Usage' });
const caption = (page: Page) => usagePanel(page).locator('figcaption').textContent();

/** The "Counted" row's sparkline, once its usage is read. */
async function sparkOf(page: Page) {
  const spark = rowNamed(page, 'Counted').locator('.kw-spark');
  await spark.waitFor();
  return {
    label: await spark.locator('svg').getAttribute('aria-label'),
    text: (await spark.textContent())?.trim(),
    bars: await spark.locator('rect').count(),
  };
}

describe('usage charts', () => {
  it('show a key’s usage in its row and from its menu, and the organization’s, admitted and refused by code', async () => {
    const { page, org, problems } = await signedIn();
    await callWith(org);
    await reload(page);

    // The row's sparkline: the 7 days, its numbers in text. One day with calls: one admitted bar, one refused.
    expect(await sparkOf(page)).toEqual({
      label: 'Last 7 days: 3 admitted, 2 refused',
      text: '3 · 2 refused',
      bars: 2,
    });
    // A key without calls.
    expect(await rowNamed(page, 'Default API Key').locator('.kw-spark svg').getAttribute('aria-label')).toBe(
      'Last 7 days: 0 admitted, 0 refused',
    );

    // The key's chart, from its "…" menu.
    await rowNamed(page, 'Counted')
      .getByRole('button', { name: /^Actions for / })
      .click();
    await page.getByRole('menuitem', { name: 'Show usage' }).click();
    const panel = usagePanel(page);
    await expect.poll(() => caption(page)).toBe('Counted, last 7 days: 3 admitted, 2 refused.');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('kw-usage-title');
    expect(await panel.locator('.kw-usage-legend li').allTextContents()).toEqual([
      'Admitted: 3',
      'Refused: 2',
      'Missing scope: 1',
      'Secret key required: 1',
    ]);
    // 168 hours, one with calls: one admitted bar and one refused bar.
    expect(await panel.locator('.kw-chart rect').count()).toBe(2);
    // The table alternative: the hour of the calls (the pinned clock's), by code.
    await panel.getByText('Show as table').click();
    expect(await panel.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.textContent))).toEqual([
      '2030-06-12 10:003Missing scope: 1, Secret key required: 1',
    ]);

    // The organization's: the Default key has no calls, so the same numbers; every range.
    await panel.getByLabel('Key').selectOption('');
    await expect.poll(() => caption(page)).toBe('All keys, last 7 days: 3 admitted, 2 refused.');
    for (const [range, label] of [
      ['24h', '24 hours'],
      ['30d', '30 days'],
      ['90d', '90 days'],
    ]) {
      await panel.getByLabel('Range').selectOption(range as string);
      await expect.poll(() => caption(page)).toBe(`All keys, last ${label}: 3 admitted, 2 refused.`);
    }
    // 90 day buckets, one with calls.
    expect(await panel.locator('.kw-chart rect').count()).toBe(2);

    // More calls: a reload of the list shows them in the row and the chart.
    await callWith(org);
    await reload(page);
    await expect.poll(() => caption(page)).toBe('All keys, last 90 days: 6 admitted, 4 refused.');
    expect(problems).toEqual([]);
  });

  it('works with the keyboard only', async () => {
    const { page, org } = await signedIn();
    await callWith(org);
    await reload(page);
    await rowNamed(page, 'Counted')
      .getByRole('button', { name: /^Actions for / })
      .focus();
    await page.keyboard.press('ArrowDown');
    const focusedItem = () => page.evaluate(() => document.activeElement?.textContent);
    while ((await focusedItem()) !== 'Show usage') await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => caption(page)).toBe('Counted, last 7 days: 3 admitted, 2 refused.');
    // From the heading: the key, the range, then "Show as table".
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('kw-usage-key');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('kw-usage-range');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => caption(page)).toBe('Counted, last 30 days: 3 admitted, 2 refused.');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Show as table');
    await page.keyboard.press('Enter');
    expect(await usagePanel(page).locator('details').getAttribute('open')).toBe('');
    expect(await usagePanel(page).locator('tbody tr').count()).toBe(1);
  });

  it('keeps a row’s menu open while the page scrolls under it, and closes it when its button leaves the view', async () => {
    const { page } = await signedIn({ width: 1320 });
    await page.setViewportSize({ width: 1320, height: 500 });
    const button = rowNamed(page, 'Default API Key').getByRole('button', { name: /^Actions for / });
    await button.click();
    const menu = page.getByRole('menu');
    await menu.waitFor();
    const offset = async () => ((await menu.boundingBox())?.y ?? 0) - ((await button.boundingBox())?.y ?? 0);
    const before = await offset();
    // A scroll that leaves the button in view (as the one that brought it there before the click, or
    // scroll anchoring when a panel above finishes loading): the menu stays, next to its button.
    await page.evaluate(() => window.scrollBy(0, 40));
    // It moves with its button once the scroll event arrives: usually the next frame, later on a loaded
    // machine (two frames were not always enough), so wait for it rather than for a count of frames.
    await expect.poll(offset).toBe(before);
    expect(await menu.isVisible()).toBe(true);
    await page.getByRole('menuitem', { name: 'Show usage' }).click();
    await expect.poll(() => caption(page)).toBe('Default API Key, last 7 days: 0 admitted, 0 refused.');

    // Scrolled out of view: it closes.
    await button.click();
    await menu.waitFor();
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.waitForFunction(() => document.querySelector('[role="menu"]:not([hidden])') === null);
    expect(await button.getAttribute('aria-expanded')).toBe('false');
  });

  it('prints the chart without its controls', async () => {
    const { page, org } = await signedIn({ theme: 'dark' });
    await callWith(org);
    await reload(page);
    await expect.poll(() => caption(page)).toBe('All keys, last 7 days: 3 admitted, 2 refused.');
    await page.emulateMedia({ media: 'print' });
    expect(await usagePanel(page).locator('.kw-usage-controls').isVisible()).toBe(false);
    expect(await usagePanel(page).locator('.kw-chart').isVisible()).toBe(true);
    // Paper is white: the light theme's bar colour, whatever the OS theme.
    expect(
      await usagePanel(page)
        .locator('.kw-bar-admitted')
        .evaluate((bar) => getComputedStyle(bar).fill),
    ).toBe('rgb(79, 70, 229)');
  });

  describe.sequential('accessibility', () => {
    for (const theme of ['light', 'dark'] as const) {
      it(`finds no axe-core violation in the ${theme} theme, at 1320 and 375 px`, async () => {
        const { page, org } = await signedIn({ theme });
        await callWith(org);
        await reload(page);
        await sparkOf(page);
        await rowNamed(page, 'Counted')
          .getByRole('button', { name: /^Actions for / })
          .click();
        await page.getByRole('menuitem', { name: 'Show usage' }).click();
        const panel = usagePanel(page);
        await expect.poll(() => caption(page)).toContain('3 admitted');
        await panel.getByText('Show as table').click();
        expect(await axeViolations(page)).toEqual([]);
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await axeViolations(page)).toEqual([]);
        // Nothing wider than the page at 375 px.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
        expect(await sparkOf(page)).toMatchObject({ text: '3 · 2 refused' });
      });
    }
  });
});
