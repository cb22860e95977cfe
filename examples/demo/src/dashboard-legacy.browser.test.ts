// Imported keys in the dashboard (docs/reference.md §5/§8): a key brought in with `importKey` carries the Legacy tag;
// rolling it gives a Keyward-format key without the tag; axe-core finds nothing in either theme.

import { describe, expect, it } from 'vitest';
import { axeViolations, pick, reload, rowNamed, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

describe('imported keys in the dashboard', () => {
  for (const theme of ['light', 'dark'] as const) {
    it(`tags an imported key Legacy, and its roll's replacement not (${theme} theme, axe clean)`, async () => {
      const { page, org, problems } = await signedIn({ theme });
      await keyward().importKey(org, { token: `old_live_${org}_0123456789`, name: 'Old CI', type: 'secret' });
      await keyward().createKey(org, { name: 'Fresh', type: 'secret' });
      await reload(page);
      const legacyTag = (name: string) => rowNamed(page, name).locator('.kw-tag-legacy');
      await expect.poll(() => legacyTag('Old CI').textContent()).toBe('Legacy');
      expect(await legacyTag('Fresh').count()).toBe(0);
      expect(await axeViolations(page)).toEqual([]);

      await pick(page, 'Old CI', 'Roll key…');
      const rollDialog = page.getByRole('dialog', { name: 'Roll this key?', exact: true });
      await rollDialog.getByRole('button', { name: 'Roll key' }).click();
      const rolledDialog = page.getByRole('dialog', { name: 'Your new key (rolled)', exact: true });
      // The replacement is a Keyward-format key.
      expect(await rolledDialog.getByLabel('API key', { exact: true }).inputValue()).toMatch(/^kw_sk_/);
      await rolledDialog.getByRole('button', { name: 'Done' }).click();
      await rolledDialog.waitFor({ state: 'hidden' });
      await reload(page);
      const rowsNamed = page.locator('#kw-rows > tr', { hasText: 'Old CI' });
      await expect.poll(() => rowsNamed.count()).toBe(2);
      // Exactly one of the two rows (the rolled original) keeps the tag.
      expect(await rowsNamed.locator('.kw-tag-legacy').count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);
      expect(problems).toEqual([]);
    });
  }
});
