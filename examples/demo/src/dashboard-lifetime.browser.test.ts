// Keys outside the lifetime policy (docs/reference.md §11) flagged in the dashboard's table, in Chromium:
// keys made before the app tightened its policy carry "Outside policy" and the reason; the others do not;
// axe-core in both themes, at 1320 and 375 px.

import { createKeyward } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import { describe, expect, it } from 'vitest';
import { DEMO_PUBLIC_SCOPES, DEMO_SCOPES } from './app.js';
import { axeViolations, reload, rowNamed, rows, useDashboard } from './dashboard-harness.js';

const DAY = 86_400_000;
// Secret keys only: the demo's sign-up makes a public Default key that never expires.
const demo = useDashboard({ lifetime: { secret: { max: 90, required: true } } });

/** The app before its policy: the same store, no lifetime. */
function earlierApp() {
  return createKeyward({
    store: demo.store(),
    pepper: TEST_PEPPER,
    scopes: DEMO_SCOPES,
    publicScopes: DEMO_PUBLIC_SCOPES,
    clock: demo.now,
  });
}

/** Three keys made before the policy (two outside it) and one made under it. */
async function keysOf(org: string) {
  const earlier = earlierApp();
  await earlier.createKey(org, { name: 'Old server', type: 'secret', scopes: [] });
  await earlier.createKey(org, {
    name: 'Old worker',
    type: 'secret',
    scopes: [],
    expiresAt: new Date(demo.now() + 400 * DAY),
  });
  await earlier.createKey(org, {
    name: 'Old but fine',
    type: 'secret',
    scopes: [],
    expiresAt: new Date(demo.now() + 30 * DAY),
  });
  await earlier.close();
  await demo.keyward().createKey(org, {
    name: 'New server',
    type: 'secret',
    scopes: [],
    expiresAt: new Date(demo.now() + 60 * DAY),
  });
}

const flagOf = (page: Parameters<typeof rowNamed>[0], name: string) =>
  rowNamed(page, name)
    .locator('.kw-lifetime-issue')
    .evaluateAll((flags) => flags.map((flag) => flag.textContent));

describe('keys outside the lifetime policy', () => {
  it('are flagged in the table with the reason', async () => {
    const { page, org, problems } = await demo.signedIn();
    await keysOf(org);
    await reload(page);
    expect(await rows(page).count()).toBe(5);
    expect(await flagOf(page, 'Old server')).toEqual([
      'Outside policy Never expires, but the lifetime policy says secret keys must expire.',
    ]);
    expect(await flagOf(page, 'Old worker')).toEqual([
      'Outside policy Secret keys may not be set to expire this far ahead any more (lifetime policy).',
    ]);
    for (const name of ['Old but fine', 'New server', 'Default API Key']) {
      expect(await flagOf(page, name), name).toEqual([]);
    }
    // Given an expiry within the policy: the flag goes with the next list.
    const old = await demo.keyward().listKeys(org, { q: 'Old server' });
    const id = old.keys[0]?.id as string;
    await demo.keyward().updateKey(org, id, { expiresAt: new Date(demo.now() + 10 * DAY) });
    await reload(page);
    expect(await flagOf(page, 'Old server')).toEqual([]);
    expect(problems).toEqual([]);
  });

  describe.sequential('accessibility', () => {
    for (const theme of ['light', 'dark'] as const) {
      it(`finds no axe-core violation with flagged keys in the ${theme} theme, at 1320 and 375 px`, async () => {
        const { page, org } = await demo.signedIn({ theme });
        await keysOf(org);
        await reload(page);
        await rowNamed(page, 'Old server').locator('.kw-lifetime-issue').waitFor();
        expect(await axeViolations(page)).toEqual([]);
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await axeViolations(page)).toEqual([]);
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      });
    }
  });
});
