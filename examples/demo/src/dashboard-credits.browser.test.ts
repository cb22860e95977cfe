// The dashboard in Chromium for a key's credits (docs/reference.md §10: its balance and next refill in the
// Usage panel, read only) and the `key.dormant_soon` event's label in the Activity panel (§7, §11); axe-core
// in both themes for both.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, pick, reload, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

const credits = (page: Page) => page.locator('#kw-usage-credits');

describe('credits and dormancy in the dashboard', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`shows a key's credits with its next refill, and a dormancy warning (${theme} theme, axe)`, async () => {
      const { page, org, problems } = await signedIn({ theme });
      const { key } = await keyward().createKey(org, { name: 'Metered', type: 'secret' });
      await keyward().setCredits(org, key.id, {
        remaining: 1500,
        refill: { amount: 100, intervalSeconds: 3600 },
      });
      const { key: plain } = await keyward().createKey(org, { name: 'Unmetered', type: 'secret' });
      // The dormancy sweep records this event (docs/reference.md §11); the demo runs no sweep.
      await demo.store().appendEvent({
        id: theme === 'light' ? 'evt_dormantSoonLight000001' : 'evt_dormantSoonDark0000001',
        organizationId: org,
        type: 'key.dormant_soon',
        keyId: plain.id,
        keyName: plain.name,
        // A second after the keys' own events (same millisecond would leave the order to the ids).
        at: new Date(demo.now() + 1000),
        actor: { type: 'system', id: 'dormancy' },
        reason: 'dormant',
      });
      await reload(page);

      const first = page.locator('#kw-events > li').first();
      await expect.poll(() => first.getAttribute('data-event-type')).toBe('key.dormant_soon');
      expect(await first.locator('.kw-event-what strong').textContent()).toBe(
        'Dormant: will be disabled in 7 days',
      );

      await pick(page, 'Metered', 'Show usage');
      await expect.poll(() => credits(page).isVisible()).toBe(true);
      expect(await credits(page).textContent()).toMatch(
        /^Credits: 1,500 left, next refill of 100 .+ \(every 3,600 s\)$/,
      );
      const refillsAt = (await keyward().getCredits(org, key.id))?.refillsAt?.toISOString();
      expect(await credits(page).locator('time').getAttribute('datetime')).toBe(refillsAt);
      expect(await axeViolations(page)).toEqual([]);

      // A key without credits shows none.
      await pick(page, 'Unmetered', 'Show usage');
      await expect.poll(() => credits(page).isVisible()).toBe(false);
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});
