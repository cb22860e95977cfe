// Permission presets in the dashboard's dialogs (docs/reference.md §10), in Chromium: "All", "Read only"
// and "Custom" over the scope checkboxes, from the scope catalog and the admin API's grantable scopes; a
// preset checks its scopes, a checkbox picks the preset that matches; keyboard only; axe in both themes.

import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, pick, rowNamed, useDashboard } from './dashboard-harness.js';

/** The preset selected and the scopes checked (enabled or not) in a dialog. */
async function shown(dialog: Locator) {
  return {
    preset: await dialog
      .locator('.kw-presets input:checked')
      .evaluate((radio) => radio.parentElement?.textContent),
    checked: await dialog
      .locator('input[name="scopes"]:checked')
      .evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).value)),
  };
}

async function keyScopes(page: Page, name: string) {
  return page.evaluate(async (wanted) => {
    const res = await fetch('/api/keys');
    const { data } = (await res.json()) as { data: Array<{ name: string; scopes: string[] }> };
    return data.find((key) => key.name === wanted)?.scopes;
  }, name);
}

describe('permission presets, every scope grantable', () => {
  const demo = useDashboard();

  it('creates a read-only key from its preset and edits it back to all', async () => {
    const { page, problems } = await demo.signedIn();
    await page.getByRole('button', { name: 'New API key' }).click();
    const create = page.getByRole('dialog', { name: 'New API key' });
    await create.getByLabel('Name').fill('Reader');
    // A secret key: every scope, "All".
    expect(await shown(create)).toEqual({ preset: 'All', checked: ['snippets:read', 'snippets:write'] });
    expect(
      await create
        .getByRole('group', { name: 'Permissions' })
        .getByRole('radio')
        .evaluateAll((r) => r.map((radio) => radio.parentElement?.textContent)),
    ).toEqual(['All', 'Read only', 'Custom']);
    await create.getByRole('radio', { name: 'Read only' }).check();
    expect(await shown(create)).toEqual({ preset: 'Read only', checked: ['snippets:read'] });
    // A checkbox picks the preset that matches, or "Custom".
    await create.getByRole('checkbox', { name: 'snippets:read' }).uncheck();
    expect(await shown(create)).toEqual({ preset: 'Custom', checked: [] });
    await create.getByRole('checkbox', { name: 'snippets:read' }).check();
    expect(await shown(create)).toEqual({ preset: 'Read only', checked: ['snippets:read'] });
    // A public key can hold the read scope only: "All" is that, and no "Read only".
    await create.getByRole('radio', { name: /^Public key/ }).check();
    expect(await shown(create)).toEqual({ preset: 'All', checked: ['snippets:read'] });
    expect(await create.getByRole('radio', { name: 'Read only' }).count()).toBe(0);
    await create.getByRole('radio', { name: /^Secret key/ }).check();
    expect(await shown(create)).toEqual({ preset: 'Read only', checked: ['snippets:read'] });
    await create.getByRole('button', { name: 'Create key' }).click();
    await page
      .getByRole('dialog', { name: 'Your new API key' })
      .getByRole('button', { name: 'Done' })
      .click();
    await rowNamed(page, 'Reader').waitFor();
    expect(await keyScopes(page, 'Reader')).toEqual(['snippets:read']);

    // Edit: the key's preset, then "All".
    await pick(page, 'Reader', 'Edit…');
    const edit = page.getByRole('dialog', { name: 'Edit key' });
    expect(await shown(edit)).toEqual({ preset: 'Read only', checked: ['snippets:read'] });
    await edit.getByRole('radio', { name: 'All' }).check();
    expect(await shown(edit)).toEqual({ preset: 'All', checked: ['snippets:read', 'snippets:write'] });
    await edit.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => keyScopes(page, 'Reader')).toEqual(['snippets:read', 'snippets:write']);
    expect(problems).toEqual([]);
  });

  it('picks a preset with the keyboard only', async () => {
    const { page } = await demo.signedIn();
    await page.getByRole('button', { name: 'New API key' }).focus();
    await page.keyboard.press('Enter');
    const create = page.getByRole('dialog', { name: 'New API key' });
    await page.keyboard.type('Keys only');
    // To the presets: Tab past the type radios, onto the checked preset ("All").
    for (let i = 0; i < 10; i++) {
      const name = await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name);
      if (name === 'kw-create-scopes-preset') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('all');
    await page.keyboard.press('ArrowRight');
    expect(await shown(create)).toEqual({ preset: 'Read only', checked: ['snippets:read'] });
    await page.keyboard.press('Enter');
    await page
      .getByRole('dialog', { name: 'Your new API key' })
      .getByRole('button', { name: 'Done' })
      .click();
    await rowNamed(page, 'Keys only').waitFor();
    expect(await keyScopes(page, 'Keys only')).toEqual(['snippets:read']);
  });

  describe.sequential('accessibility', () => {
    for (const theme of ['light', 'dark'] as const) {
      it(`finds no axe-core violation in the dialog with presets in the ${theme} theme, at 1320 and 375 px`, async () => {
        const { page } = await demo.signedIn({ theme });
        await page.getByRole('button', { name: 'New API key' }).click();
        const create = page.getByRole('dialog', { name: 'New API key' });
        await create.getByRole('radio', { name: 'Read only' }).check();
        expect(await axeViolations(page)).toEqual([]);
        await page.setViewportSize({ width: 375, height: 800 });
        expect(await axeViolations(page)).toEqual([]);
      });
    }
  });
});

describe('permission presets, some scopes not grantable', () => {
  const demo = useDashboard({ grantableScopes: ['snippets:read'] });

  it('offers only the grantable scopes and creates the key with them', async () => {
    const { page, problems } = await demo.signedIn();
    await page.getByRole('button', { name: 'New API key' }).click();
    const create = page.getByRole('dialog', { name: 'New API key' });
    await create.getByLabel('Name').fill('Limited');
    expect(await shown(create)).toEqual({ preset: 'All', checked: ['snippets:read'] });
    const write = create.getByRole('checkbox', { name: /snippets:write/ });
    expect(await write.isDisabled()).toBe(true);
    expect(await create.locator('label.kw-choice', { hasText: 'snippets:write' }).textContent()).toBe(
      'snippets:writeNot offered here',
    );
    await create.getByRole('button', { name: 'Create key' }).click();
    await page
      .getByRole('dialog', { name: 'Your new API key' })
      .getByRole('button', { name: 'Done' })
      .click();
    await rowNamed(page, 'Limited').waitFor();
    expect(await keyScopes(page, 'Limited')).toEqual(['snippets:read']);
    expect(problems).toEqual([]);
  });
});
