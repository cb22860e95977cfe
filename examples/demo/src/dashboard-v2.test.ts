// Dashboard v2 in Chromium: phone layout, a list that never lies (404/409, focus), paging and
// search, Edit, expiry presets, warnings, the Default tag after a roll, print, and axe-core in both themes.
// The demo runs on a MemoryKeyStore here (the Mongo-backed run is browser.test.ts).

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, UPDATE_SCREENSHOTS } from './chromium.js';
import {
  axeViolations,
  contrastOf,
  oneAtATime,
  pick,
  reload,
  rowNamed,
  rows,
  useDashboard,
} from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

describe('dashboard v2 in Chromium', () => {
  it('shows every key’s name, key, status and “…” at 375 px without sideways scrolling', async () => {
    const { page, org } = await signedIn({ width: 375 });
    await keyward().createKey(org, { name: 'Production server with a long name', type: 'secret' });
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
    const { key } = await keyward().createKey(org, { name: 'Gone soon', type: 'secret' });
    await reload(page);
    await rowNamed(page, 'Gone soon').waitFor();
    await keyward().deleteKey(org, key.id);
    await pick(page, 'Gone soon', 'Disable…');
    const dialog = page.getByRole('dialog', { name: 'Disable this key?' });
    await dialog.getByRole('button', { name: 'Disable key' }).click();
    await dialog.locator('.kw-error-message').waitFor();
    await expect.poll(() => rowNamed(page, 'Gone soon').count()).toBe(0);
    expect(await dialog.getByRole('button', { name: 'Disable key' }).isDisabled()).toBe(true);
  });

  it('reloads the list when the tab becomes visible again', async () => {
    const { page, org } = await signedIn();
    await keyward().createKey(org, { name: 'Made elsewhere', type: 'secret' });
    expect(await rowNamed(page, 'Made elsewhere').count()).toBe(0);
    await reload(page);
    await rowNamed(page, 'Made elsewhere').waitFor();
  });

  it('says a refused request was not authorized (not that a session ended) and links to sign in again', async () => {
    const { page } = await signedIn();
    await page.context().clearCookies();
    await reload(page);
    const alert = page.locator('#kw-alert');
    await alert.getByText('This request was not authorized. Sign in again, then retry.').waitFor();
    expect(await alert.textContent()).not.toMatch(/session/i);
    await alert.getByRole('link', { name: 'Sign in again' }).click();
    // The demo's page sends a visitor without a session to its sign-up page.
    await page.getByLabel('Organization name').waitFor();
  });

  it('H1: offers “Save changes” again in the next Edit dialog after a 404', async () => {
    const { page, org } = await signedIn();
    const { key: gone } = await keyward().createKey(org, { name: 'Gone meanwhile', type: 'secret' });
    await keyward().createKey(org, { name: 'Still here', type: 'secret' });
    await reload(page);
    await keyward().deleteKey(org, gone.id);
    await pick(page, 'Gone meanwhile', 'Edit…');
    const dialog = page.getByRole('dialog', { name: 'Edit key' });
    await dialog.getByLabel('Name').fill('Renamed');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.locator('.kw-error-message').waitFor();
    expect(await dialog.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await pick(page, 'Still here', 'Edit…');
    const save = dialog.getByRole('button', { name: 'Save changes' });
    expect(await save.isDisabled()).toBe(false);
    await dialog.getByLabel('Name').fill('Still here, renamed');
    await save.click();
    await rowNamed(page, 'Still here, renamed').waitFor();
  });

  it('wraps a long unbroken name inside the confirm dialog', async () => {
    const { page, org } = await signedIn();
    const name = 'x'.repeat(100);
    await keyward().createKey(org, { name, type: 'secret' });
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

  // The "Expires" cell shows the year only when the date is not in this year: pinned on a day whose
  // 30-day preset stays in the year, and on one whose preset lands in the next.
  for (const [now, shown] of [
    ['2030-06-12T10:00:00.000Z', /^Jul 12, 10:\d\d AMin (29|30) days$/],
    ['2030-12-07T11:50:00.000Z', /^Jan 6, 2031, 11:5\d AMin (29|30) days$/],
  ] as const) {
    it(`edits a key’s name, scopes and expiry (on ${now.slice(0, 10)}, shown as ${shown})`, async () => {
      const { page, org } = await signedIn({ now });
      await keyward().createKey(org, { name: 'Before', type: 'secret', expiresAt: null });
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
      expect(await row.locator('td').nth(3).textContent()).toMatch(shown);
    });
  }

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
      const made = await keyward().createKey(org, { name: `Bulk ${i}`, type: i % 2 ? 'public' : 'secret' });
      if (i === 7) last = made.token.slice(-4);
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

  it('pages through 250 keys with Load more, each shown once, while keys are created and deleted between pages', async () => {
    const { page, org } = await signedIn();
    const made: string[] = [];
    for (let i = 0; i < 250; i++)
      made.push((await keyward().createKey(org, { name: `Many ${i}`, type: 'secret' })).key.id);
    await reload(page);
    await expect.poll(() => rows(page).count()).toBe(50);
    const shownIds = () =>
      rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key-id') ?? ''));
    const deletedUnseen: string[] = [];
    const more = page.getByRole('button', { name: 'Load more keys' });
    for (let round = 0; await more.isVisible(); round++) {
      expect(round).toBeLessThan(10);
      // Between page loads: a new key (newest, so on no later page) and a deleted key not shown yet.
      await keyward().createKey(org, { name: `Between ${round}`, type: 'secret' });
      const seen = new Set(await shownIds());
      const victim = made.find((id) => !seen.has(id) && !deletedUnseen.includes(id));
      if (victim) {
        await keyward().deleteKey(org, victim);
        deletedUnseen.push(victim);
      }
      const before = seen.size;
      await more.click();
      await expect.poll(async () => (await shownIds()).length).toBeGreaterThan(before);
      await expect.poll(() => page.locator('#kw-load-more').textContent()).toBe('Load more keys');
    }
    const ids = await shownIds();
    expect(new Set(ids).size).toBe(ids.length);
    const expected = made.filter((id) => !deletedUnseen.includes(id));
    expect(deletedUnseen.length).toBeGreaterThanOrEqual(4);
    expect(ids.filter((id) => made.includes(id)).sort()).toEqual(expected.sort());
  });

  it('puts the focus on a new key’s row when its token dialog is closed before the list that has it arrives', async () => {
    const { page } = await signedIn();
    // Hold back the list read that follows the create until the dialog has been closed.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let created = false;
    await page.route(
      (url) => /^\/api\/keys\/?$/.test(url.pathname),
      async (route) => {
        if (route.request().method() === 'POST') created = true;
        else if (created) await held;
        await route.continue();
      },
    );
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('Slow list');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Your new API key' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Your new API key' }).waitFor({ state: 'hidden' });
    expect(await rowNamed(page, 'Slow list').count()).toBe(0);
    release();
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''))
      .toMatch(/^Actions for Slow list/);
  });

  it('H2: keeps the 251 loaded rows, the scroll and the focus after acting on row 201', async () => {
    const { page, org } = await signedIn();
    for (let i = 0; i < 250; i++) await keyward().createKey(org, { name: `Row ${i}`, type: 'secret' });
    await reload(page);
    const more = page.getByRole('button', { name: 'Load more keys' });
    while (await more.isVisible()) {
      const before = await rows(page).count();
      await more.click();
      await expect.poll(() => rows(page).count()).toBeGreaterThan(before);
    }
    expect(await rows(page).count()).toBe(251);
    const target = rows(page).nth(200);
    const name = (await target.locator('.kw-name').textContent()) ?? '';
    // The "…" menu closes on any scroll: let the scrolling to the row (and to the focused new rows) end
    // first — two animation frames after the row is in view.
    await target.scrollIntoViewIfNeeded();
    await page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
    );
    await target.getByRole('button', { name: /^Actions for / }).click();
    await page.getByRole('menuitem', { name: 'Disable…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable this key?' });
    await dialog.getByRole('button', { name: 'Disable key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => rowNamed(page, name).locator('.kw-badge').textContent()).toBe('Disabled');
    expect(await rows(page).count()).toBe(251);
    expect(
      await page.evaluate(
        () => document.activeElement?.closest('tr')?.querySelector('.kw-name')?.textContent,
      ),
    ).toBe(name);
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(1000);
  });

  it('H3: says that sort and the expiry notice only see the loaded keys, until every key is loaded', async () => {
    const { page, org } = await signedIn();
    const soon = new Date(demo.now() + 2 * 86_400_000).toISOString();
    const later = oneAtATime();
    for (let i = 0; i < 3; i++)
      await later(() =>
        keyward().createKey(org, { name: `Ends soon ${i}`, type: 'secret', expiresAt: soon }),
      );
    for (let i = 0; i < 60; i++)
      await later(() => keyward().createKey(org, { name: `Newer ${i}`, type: 'secret' }));
    await reload(page);
    await page.getByLabel('Sort').selectOption('expires');
    const scope = page.locator('#kw-list-scope');
    await expect
      .poll(() => scope.textContent())
      .toBe(
        'Sorted and checked for expiry among the 50 keys loaded, not all keys. Load more keys to include the rest.',
      );
    expect(await scope.isVisible()).toBe(true);
    expect(await page.locator('#kw-expiry-notice').isVisible()).toBe(false);
    await page.getByRole('button', { name: 'Load more keys' }).click();
    await expect.poll(() => rows(page).count()).toBe(64);
    expect(await scope.isVisible()).toBe(false);
    await expect
      .poll(() => page.locator('#kw-expiry-notice').textContent())
      .toMatch(/^3 keys expire within 7 days/);
    expect(await rows(page).first().locator('.kw-name').textContent()).toMatch(/^Ends soon/);
    expect(await axeViolations(page)).toEqual([]);
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

/** Holds the page's admin API requests of `method` (to `path` under /api/keys) until `release()`. */
async function holdRequests(page: Page, method: string, path: RegExp) {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = 0;
  await page.route(
    (url) => url.pathname.startsWith('/api/keys'),
    async (route) => {
      const request = route.request();
      if (request.method() === method && path.test(new URL(request.url()).pathname)) {
        held++;
        await gate;
      }
      await route.continue();
    },
  );
  return { release, held: () => held };
}

describe('dialogs, busy labels, sticky header and sort', () => {
  it('builds each dialog as its own <dialog>, named by its title, from a page frame without dialogs', async () => {
    const { page, problems } = await signedIn();
    const html = await (await page.request.get(page.url())).text();
    expect(html).not.toMatch(/<dialog|<table|<form/);
    const dialogs = await page.evaluate(() =>
      [...document.querySelectorAll('dialog')].map((d) => ({
        id: d.id,
        title: document.getElementById(d.getAttribute('aria-labelledby') ?? '')?.textContent ?? '',
        parent: d.parentElement?.tagName,
      })),
    );
    expect(dialogs).toEqual([
      { id: 'kw-create-dialog', title: 'New API key', parent: 'BODY' },
      { id: 'kw-token-dialog', title: 'Your new API key', parent: 'BODY' },
      { id: 'kw-confirm-dialog', title: 'Are you sure?', parent: 'BODY' },
      { id: 'kw-edit-dialog', title: 'Edit key', parent: 'BODY' },
    ]);
    expect(problems).toEqual([]);
  });

  it('says what a busy form is doing and keeps it open until the server answers (create, edit, roll)', async () => {
    const { page } = await signedIn();
    // Create: "Creating…", every button disabled, Escape ignored.
    const create = await holdRequests(page, 'POST', /^\/api\/keys\/?$/);
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('Busy');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const creating = dialog.getByRole('button', { name: 'Creating…' });
    await creating.waitFor();
    await expect.poll(create.held).toBe(1);
    expect(await creating.isDisabled()).toBe(true);
    expect(await dialog.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
    expect(await dialog.locator('form').getAttribute('aria-busy')).toBe('true');
    await page.keyboard.press('Escape');
    expect(await dialog.isVisible()).toBe(true);
    create.release();
    await page.getByRole('dialog', { name: 'Your new API key' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.unrouteAll();

    // Edit: "Saving…".
    const edit = await holdRequests(page, 'PATCH', /^\/api\/keys\/key_/);
    await pick(page, 'Busy', 'Edit…');
    const editDialog = page.getByRole('dialog', { name: 'Edit key' });
    await editDialog.getByLabel('Name').fill('Busy edited');
    await editDialog.getByRole('button', { name: 'Save changes' }).click();
    const saving = editDialog.getByRole('button', { name: 'Saving…' });
    await saving.waitFor();
    await expect.poll(edit.held).toBe(1);
    expect(await saving.isDisabled()).toBe(true);
    edit.release();
    await editDialog.waitFor({ state: 'hidden' });
    await rowNamed(page, 'Busy edited').waitFor();
    await page.unrouteAll();

    // Roll (the confirm dialog): "Working…", then the label of the next confirmation is its own again.
    const roll = await holdRequests(page, 'POST', /\/roll$/);
    await pick(page, 'Busy edited', 'Roll key…');
    const confirm = page.getByRole('dialog', { name: 'Roll this key?' });
    await confirm.getByRole('button', { name: 'Roll key' }).click();
    const working = confirm.getByRole('button', { name: 'Working…' });
    await working.waitFor();
    await expect.poll(roll.held).toBe(1);
    expect(await working.isDisabled()).toBe(true);
    roll.release();
    await page.getByRole('dialog', { name: 'Your new key (rolled)' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await pick(page, 'Default API Key', 'Disable…');
    const disable = page.getByRole('dialog', { name: 'Disable this key?' });
    expect(await disable.getByRole('button', { name: 'Disable key' }).isEnabled()).toBe(true);
  });

  it('keeps the toolbar and the table header in view while 60 keys scroll by', async () => {
    const { page, org } = await signedIn();
    for (let i = 0; i < 60; i++) await keyward().createKey(org, { name: `Scrolled ${i}`, type: 'secret' });
    await reload(page);
    await expect.poll(() => rows(page).count()).toBe(50);
    await page.mouse.wheel(0, 2400);
    await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(1000);
    const layout = await page.evaluate(() => {
      const bar = document.querySelector('.kw-sticky')?.getBoundingClientRect();
      const search = document.getElementById('kw-search')?.getBoundingClientRect();
      const th = document.querySelector('#kw-table thead th');
      const head = th?.getBoundingClientRect();
      const atHead = head && document.elementFromPoint(head.x + 4, head.y + head.height / 2);
      const atSearch = search && document.elementFromPoint(search.x + 4, search.y + search.height / 2);
      return {
        barTop: bar?.top,
        barBottom: bar?.bottom,
        headTop: head?.top,
        headOnTop: Boolean(th && atHead && th.contains(atHead)),
        searchOnTop: atSearch?.id,
        firstRowTop: document.querySelector('#kw-rows > tr')?.getBoundingClientRect().top ?? 0,
      };
    });
    expect(layout.barTop).toBe(0);
    expect(Math.abs((layout.headTop ?? -100) - (layout.barBottom ?? 0))).toBeLessThanOrEqual(1);
    expect(layout.headOnTop).toBe(true);
    expect(layout.searchOnTop).toBe('kw-search');
    expect(layout.firstRowTop).toBeLessThan(0);
    // Where the header sticks, the table never scrolls sideways.
    await page.setViewportSize({ width: 1000, height: 820 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1000);
  });

  it('sorts the loaded keys by name, created, last used and expiry, keeping a rolled key under its replacement', async () => {
    const { page, org } = await signedIn();
    const day = 86_400_000;
    // Each key a later millisecond than the one before, so "newest first" has one answer.
    const later = oneAtATime();
    const made = (name: string, days: number | null) =>
      later(() =>
        keyward().createKey(org, {
          name,
          type: 'secret',
          expiresAt: days === null ? null : new Date(demo.now() + days * day),
        }),
      );
    await made('bravo', 30);
    const used = await made('Charlie 10', null);
    await made('alpha', 7);
    const rolled = await made('Charlie 9', 90);
    const replacement = await later(() => keyward().rollKey(org, rolled.key.id));
    const res = await fetch(`${demo.base()}/v1/whoami`, { headers: { 'X-API-Key': used.token } });
    expect(res.status).toBe(200);
    await keyward().flushUsage();
    await reload(page);
    const names = async () => (await rows(page).locator('.kw-name').allTextContents()).join(' | ');
    const ids = () => rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key-id')));
    const sortedBy = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('#kw-table th[aria-sort]')].map(
          (th) => `${th.textContent} ${th.getAttribute('aria-sort')}`,
        ),
      );
    await expect.poll(names).toBe('Charlie 9 | Charlie 9 | alpha | Charlie 10 | bravo | Default API Key');
    expect(await sortedBy()).toEqual(['Created descending']);
    // The replacement comes first (newest) with its predecessor right below it.
    expect((await ids()).slice(0, 2)).toEqual([replacement.key.id, rolled.key.id]);

    const sort = page.getByLabel('Sort');
    await sort.selectOption('name');
    expect(await names()).toBe('alpha | bravo | Charlie 9 | Charlie 9 | Charlie 10 | Default API Key');
    expect(await sortedBy()).toEqual(['Name ascending']);
    expect((await ids()).slice(2, 4)).toEqual([replacement.key.id, rolled.key.id]);

    await sort.selectOption('oldest');
    expect(await names()).toBe('Default API Key | bravo | Charlie 10 | alpha | Charlie 9 | Charlie 9');
    expect(await sortedBy()).toEqual(['Created ascending']);

    await sort.selectOption('last-used');
    expect((await names()).startsWith('Charlie 10 | ')).toBe(true);
    expect(await sortedBy()).toEqual(['Last used descending']);

    // Soonest first; the rolled key expires in 12 hours but stays under its replacement (90 days).
    await sort.selectOption('expires');
    expect(await names()).toBe('alpha | bravo | Charlie 9 | Charlie 9 | Charlie 10 | Default API Key');
    expect(await sortedBy()).toEqual(['Expires ascending']);

    // A reload keeps the chosen order.
    await reload(page);
    await expect.poll(names).toBe('alpha | bravo | Charlie 9 | Charlie 9 | Charlie 10 | Default API Key');
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

      for (let i = 0; i < 60; i++) await keyward().createKey(org, { name: `Paged ${i}`, type: 'secret' });
      await reload(page);
      await expect.poll(() => rows(page).count()).toBe(50);
      states['60 keys paged'] = await axeViolations(page);
      await page.getByLabel('Sort').selectOption('name');
      states['sorted by name'] = await axeViolations(page);
      await page.mouse.wheel(0, 2400);
      await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(1000);
      states['scrolled, sticky header'] = await axeViolations(page);

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
    const contrast = () => contrastOf(page, '#kw-confirm-ok');
    expect(await contrast()).toEqual([0, 1]);
    await button.hover();
    expect(await contrast()).toEqual([0, 1]);
  });

  it('finds no violation on a page of an organization with 0 keys', async () => {
    const { page, org } = await signedIn();
    const { keys } = await keyward().listKeys(org);
    for (const key of keys) await keyward().deleteKey(org, key.id);
    await reload(page);
    await page.locator('#kw-table-state', { hasText: 'No API keys yet' }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await axeViolations(page)).toEqual([]);
  });
});
