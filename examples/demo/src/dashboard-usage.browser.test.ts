// The dashboard's Usage panel in Chromium (contract §9): after admitted and refused calls over HTTP, a
// key's chart (from its "…" menu) and the organization's show the right numbers, with a table
// alternative; axe-core in both themes and at 375 px.

import { describe, expect, it } from 'vitest';
import { axeViolations, pick, reload, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

/** Three admitted calls and one refused (a public key on a secret-key route) with a new key. */
async function callWith(org: string) {
  const { token } = await keyward().createKey(org, { name: 'Counted', type: 'public', limits: [] });
  const call = (method: string, path: string) =>
    fetch(`${demo.base()}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: method === 'POST' ? '{}' : undefined,
    });
  for (let i = 0; i < 3; i++) expect((await call('GET', '/v1/whoami')).status).toBe(200);
  expect((await call('POST', '/v1/snippets')).status).toBe(403);
  await keyward().flushUsage();
}

describe('the Usage panel', () => {
  it('shows a key’s usage from its menu and the organization’s, admitted and refused by code', async () => {
    const { page, org, problems } = await signedIn();
    await callWith(org);
    await reload(page);
    await pick(page, 'Counted', 'Show usage');
    const panel = page.getByRole('region', { name: 'Usage' });
    await expect
      .poll(() => panel.locator('figcaption').textContent())
      .toBe('Counted, last 7 days: 3 admitted, 1 refused.');
    expect(await panel.locator('.kw-usage-legend li').allTextContents()).toEqual([
      'Admitted: 3',
      'Refused: 1',
      'Secret key required: 1',
    ]);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('kw-usage-title');
    // The table alternative.
    await panel.getByText('Show as table').click();
    const cells = await panel.locator('tbody tr').first().locator('td').allTextContents();
    expect(cells).toEqual(['3', 'Secret key required: 1']);
    // The organization's.
    await panel.getByRole('button', { name: 'Show all keys' }).click();
    await expect
      .poll(() => panel.locator('figcaption').textContent())
      .toBe('All keys, last 7 days: 3 admitted, 1 refused.');
    await panel.getByLabel('Range').selectOption('30d');
    await expect
      .poll(() => panel.locator('figcaption').textContent())
      .toBe('All keys, last 30 days: 3 admitted, 1 refused.');
    expect(problems).toEqual([]);
  });

  describe.sequential('accessibility', () => {
    for (const theme of ['light', 'dark'] as const) {
      it(`finds no axe-core violation in the ${theme} theme, at 1320 and 375 px`, async () => {
        const { page, org } = await signedIn({ theme });
        await callWith(org);
        await reload(page);
        await pick(page, 'Counted', 'Show usage');
        const panel = page.getByRole('region', { name: 'Usage' });
        await expect.poll(() => panel.locator('figcaption').textContent()).toContain('3 admitted');
        await panel.getByText('Show as table').click();
        expect(await axeViolations(page)).toEqual([]);
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await axeViolations(page)).toEqual([]);
        // Nothing wider than the page at 375 px.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      });
    }
  });
});
