// The dashboard's Activity panel in Chromium (docs/reference.md §5/§7): the organization's events newest first,
// paged with "Load more", filtered by key, and a key's history from its "…" menu, after create → roll →
// use of the old key → delete; axe-core in both themes.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, UPDATE_SCREENSHOTS } from './chromium.js';
import { axeViolations, oneAtATime, pick, reload, rowNamed, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

/**
 * The Activity panel's events as "<what> <key name>", newest first (without the redacted key shown after
 * the name of a listed key: dashboard-medium.browser.test.ts checks it).
 */
function shownEvents(page: Page) {
  return page
    .locator('#kw-events > li')
    .evaluateAll((items) =>
      items.map((item) =>
        `${item.querySelector('.kw-event-what')?.textContent?.replace(/\s+/g, ' ').trim()}`.replace(
          / \(kw_[a-z]+_…\w+\)$/,
          '',
        ),
      ),
    );
}

describe('the Activity panel', () => {
  it('shows the events and a key’s history after create → roll → use of the old key → delete', async () => {
    const { page, problems } = await signedIn();
    const panel = page.getByRole('region', { name: 'Activity' });
    await expect.poll(() => shownEvents(page)).toEqual(['Created Default API Key']);

    // Create, in the page.
    await page.getByRole('button', { name: 'New API key' }).click();
    const create = page.getByRole('dialog', { name: 'New API key' });
    await create.getByLabel('Name').fill('Tracked');
    await create.getByRole('button', { name: 'Create key' }).click();
    const tokenDialog = page.getByRole('dialog', { name: 'Your new API key' });
    const oldToken = await tokenDialog.getByLabel('API key', { exact: true }).inputValue();
    await tokenDialog.getByRole('button', { name: 'Done' }).click();
    const oldId = (await rowNamed(page, 'Tracked').getAttribute('data-key-id')) as string;

    // Roll it, in the page.
    await pick(page, 'Tracked', 'Roll key…');
    await page
      .getByRole('dialog', { name: 'Roll this key?' })
      .getByRole('button', { name: 'Roll key' })
      .click();
    await page
      .getByRole('dialog', { name: 'Your new key (rolled)' })
      .getByRole('button', { name: 'Done' })
      .click();
    await expect
      .poll(() => shownEvents(page))
      // The roll's two events: on the old key, and the new key's creation.
      .toEqual(['Rolled Tracked', 'Created Tracked', 'Created Tracked', 'Created Default API Key']);

    // Use the old key over HTTP during its grace period.
    const used = await fetch(`${demo.base()}/v1/whoami`, {
      headers: { Authorization: `Bearer ${oldToken}` },
    });
    expect(used.status).toBe(200);
    await keyward().flushUsage();
    await reload(page);
    await expect
      .poll(() => shownEvents(page))
      .toEqual([
        'Used after its roll Tracked',
        'Rolled Tracked',
        'Created Tracked',
        'Created Tracked',
        'Created Default API Key',
      ]);
    const oldRow = page.locator(`#kw-rows > tr[data-key-id="${oldId}"]`);
    expect(await oldRow.locator('.kw-still-used').textContent()).toMatch(/^still in use /);

    // The old key's history, from its "…" menu: the panel filtered by it, its heading focused. It is the
    // whole roll chain's (`?chain=true`): the key that replaced it was created by the roll.
    await oldRow.getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Show history' }).click();
    await expect
      .poll(() => shownEvents(page))
      .toEqual(['Used after its roll Tracked', 'Rolled Tracked', 'Created Tracked', 'Created Tracked']);
    expect(await panel.getByLabel('Key').inputValue()).toBe(oldId);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('kw-activity-title');

    // Delete the old key: its history stays shown, newest first, with the deletion on top.
    await oldRow.getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Delete…' }).click();
    await page
      .getByRole('dialog', { name: 'Delete this key?' })
      .getByRole('button', { name: 'Delete key' })
      .click();
    await expect
      .poll(() => shownEvents(page))
      .toEqual([
        'Deleted Tracked',
        'Used after its roll Tracked',
        'Rolled Tracked',
        'Created Tracked',
        'Created Tracked',
      ]);
    expect(await panel.getByLabel('Key').inputValue()).toBe(oldId);
    expect(await panel.getByRole('option', { selected: true }).textContent()).toBe(
      'Tracked (no longer listed)',
    );
    // Who and from where: the page's user, from the loopback address; the default key by the system.
    const items = page.locator('#kw-events > li');
    expect(await items.first().locator('.kw-event-who').textContent()).toMatch(/^by user \S+ from \S+$/);
    expect(await items.first().locator('time').getAttribute('datetime')).toMatch(/Z$/);
    if (UPDATE_SCREENSHOTS) await panel.screenshot({ path: new URL('activity.png', SCREENSHOTS).pathname });

    // Back to every key.
    await panel.getByLabel('Key').selectOption({ label: 'All keys' });
    await expect.poll(async () => (await shownEvents(page)).length).toBe(6);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('pages the events with “Load more activity” and filters by key', async () => {
    const { page, org } = await signedIn();
    const later = oneAtATime();
    const { key } = await later(() => keyward().createKey(org, { name: 'Busy key', type: 'secret' }));
    for (let i = 0; i < 24; i++)
      await later(() => keyward().updateKey(org, key.id, { name: `Busy key ${i}` }));
    await reload(page);
    const more = page.getByRole('button', { name: 'Load more activity' });
    await expect.poll(() => page.locator('#kw-events > li').count()).toBe(20);
    expect(await shownEvents(page).then((e) => e[0])).toBe('Edited: name Busy key 23');
    await more.click();
    // 24 renames, 2 keys created: 26 events.
    await expect.poll(() => page.locator('#kw-events > li').count()).toBe(26);
    expect(await more.isVisible()).toBe(false);
    const all = await shownEvents(page);
    expect(new Set(all).size).toBe(26);
    expect(all.at(-1)).toBe('Created Default API Key');
    const panel = page.getByRole('region', { name: 'Activity' });
    const { keys } = await keyward().listKeys(org, { q: 'Default API Key' });
    await panel.getByLabel('Key').selectOption(keys[0]?.id ?? '');
    await expect.poll(() => shownEvents(page)).toEqual(['Created Default API Key']);

    // With the keyboard: "Show history" is the item above Delete; the focus lands on the panel's heading.
    await rowNamed(page, 'Busy key 23')
      .getByRole('button', { name: /^Actions for / })
      .focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('kw-activity-title');
    expect(await panel.getByLabel('Key').inputValue()).toBe(key.id);
    await expect.poll(async () => (await shownEvents(page))[0]).toBe('Edited: name Busy key 23');
  });

  it('H4: shows a rolled key’s history on the key that replaced it, through the whole roll chain', async () => {
    const { page, org } = await signedIn();
    const later = oneAtATime();
    const { key: first } = await later(() => keyward().createKey(org, { name: 'Chained', type: 'secret' }));
    const { key: second } = await later(() => keyward().rollKey(org, first.id));
    await later(() => keyward().updateKey(org, second.id, { name: 'Chained again' }));
    const { key: third } = await later(() => keyward().rollKey(org, second.id));
    await reload(page);
    await page
      .locator(`#kw-rows > tr[data-key-id="${third.id}"]`)
      .getByRole('button', { name: /^Actions for / })
      .click();
    await page.getByRole('menuitem', { name: 'Show history' }).click();
    await expect
      .poll(() => shownEvents(page))
      .toEqual([
        'Rolled Chained again',
        'Created Chained again',
        'Edited: name Chained again',
        'Rolled Chained',
        'Created Chained',
        'Created Chained',
      ]);
    expect(await page.locator('#kw-activity-chain').textContent()).toBe(
      'Includes the events of 2 other keys of its roll chain.',
    );
    expect(await axeViolations(page)).toEqual([]);
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`finds no axe-core violation in the ${theme} theme in the Activity panel and a key’s history`, async () => {
      const { page, org } = await signedIn({ theme });
      const later = oneAtATime();
      const { key } = await later(() => keyward().createKey(org, { name: 'Audited', type: 'secret' }));
      // 22 changes, the last one enabling the key again (a disabled key cannot be rolled).
      for (let i = 0; i < 22; i++)
        await later(() => keyward().updateKey(org, key.id, { disabled: i % 2 === 0 }));
      await later(() => keyward().rollKey(org, key.id));
      await reload(page);
      await expect.poll(() => page.locator('#kw-events > li').count()).toBe(20);
      const states: Record<string, string[]> = {};
      states['activity, paged'] = await axeViolations(page);
      await page
        .locator(`#kw-rows > tr[data-key-id="${key.id}"]`)
        .getByRole('button', { name: /^Actions for / })
        .click();
      await page.getByRole('menuitem', { name: 'Show history' }).click();
      await expect.poll(async () => (await shownEvents(page))[0]).toBe('Rolled Audited');
      states['key history'] = await axeViolations(page);
      await page.setViewportSize({ width: 375, height: 820 });
      states['375 px activity'] = await axeViolations(page);
      console.log(
        `[axe ${theme} activity] ${Object.entries(states)
          .map(([s, v]) => `${s}: ${v.length}`)
          .join(', ')}`,
      );
      expect(states).toEqual(Object.fromEntries(Object.keys(states).map((s) => [s, []])));
    });
  }
});
