// The dashboard's policy fields in Chromium (docs/reference.md §5/§6): limits, allowed origins and IPs in the create
// and edit dialogs with the server's 400 details beside the field, the compact policy line in the table,
// the notice for keys expiring within 7 days, "still in use" on rolled keys, and axe-core in both themes.

import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { SCREENSHOTS, UPDATE_SCREENSHOTS } from './chromium.js';
import { axeViolations, pick, reload, rowNamed, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();
const DAY = 86_400_000;

/** Fills limit row `n` (1-based) of a dialog: `limit` requests per `count` `unit`. */
async function fillLimit(
  page: Page,
  dialogName: string,
  n: number,
  limit: string,
  count: string,
  unit: string,
) {
  const dialog = page.getByRole('dialog', { name: dialogName });
  await dialog.getByRole('spinbutton', { name: `Requests, limit ${n}` }).fill(limit);
  await dialog.getByRole('spinbutton', { name: `Window length, limit ${n}` }).fill(count);
  await dialog.getByRole('combobox', { name: `Window unit, limit ${n}` }).selectOption({ label: unit });
}

describe('policies in the dashboard', () => {
  it('edits limits, allowed origins and IPs, shows them in the table, and reads them back into the form', async () => {
    const { page, org, problems } = await signedIn();
    // Without the demo's default limits for public keys, so the form starts empty.
    const { key } = await keyward().createKey(org, { name: 'Website', type: 'public', limits: [] });
    await reload(page);
    await pick(page, 'Website', 'Edit…');
    const dialog = page.getByRole('dialog', { name: 'Edit key' });
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    // The new row's first field has the focus.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Requests, limit 1',
    );
    await fillLimit(page, 'Edit key', 1, '20', '1', 'seconds');
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    await fillLimit(page, 'Edit key', 2, '100000', '30', 'days');
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    await fillLimit(page, 'Edit key', 3, '500', '1', 'minutes');
    // At most 3 limits.
    expect(await dialog.getByRole('button', { name: 'Add a limit' }).isVisible()).toBe(false);
    await dialog.getByRole('button', { name: 'Remove limit 3' }).click();
    expect(await dialog.getByRole('button', { name: 'Add a limit' }).isVisible()).toBe(true);
    // The focus stays in the field, on the row above.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Requests, limit 2',
    );
    await dialog.getByLabel('Allowed origins').fill('https://app.example.com\n\n  https://*.example.com  \n');
    await dialog.getByLabel('Allowed IP addresses').fill('203.0.113.7\n10.0.0.0/8');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const saved = await keyward().getKey(org, key.id);
    expect(saved).toMatchObject({
      limits: [
        { limit: 20, windowSeconds: 1 },
        { limit: 100_000, windowSeconds: 30 * 86_400 },
      ],
      allowedOrigins: ['https://app.example.com', 'https://*.example.com'],
      allowedIps: ['203.0.113.7', '10.0.0.0/8'],
    });
    const hint = rowNamed(page, 'Website').locator('.kw-policy');
    await expect
      .poll(() => hint.textContent())
      .toBe('Policies: 20 / second · 100,000 / 30 days · 2 origins · 2 IP addresses');

    // The form reads them back; removing a limit and the origins sends only what changed.
    await pick(page, 'Website', 'Edit…');
    expect(await dialog.getByRole('spinbutton', { name: 'Requests, limit 2' }).inputValue()).toBe('100000');
    expect(await dialog.getByRole('spinbutton', { name: 'Window length, limit 2' }).inputValue()).toBe('30');
    expect(await dialog.getByRole('combobox', { name: 'Window unit, limit 2' }).inputValue()).toBe('86400');
    expect(await dialog.getByLabel('Allowed origins').inputValue()).toBe(
      'https://app.example.com\nhttps://*.example.com',
    );
    const patches: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'PATCH') patches.push(request.postData() ?? '');
    });
    await dialog.getByRole('button', { name: 'Remove limit 1' }).click();
    await dialog.getByLabel('Allowed origins').fill('');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(patches.map((body) => JSON.parse(body))).toEqual([
      { limits: [{ limit: 100_000, windowSeconds: 2_592_000 }], allowedOrigins: [] },
    ]);
    expect(await keyward().getKey(org, key.id)).toMatchObject({
      limits: [{ limit: 100_000, windowSeconds: 2_592_000 }],
      allowedOrigins: [],
      allowedIps: ['203.0.113.7', '10.0.0.0/8'],
    });
    await expect.poll(() => hint.textContent()).toBe('Policies: 100,000 / 30 days · 2 IP addresses');
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('shows the server’s 400 details beside the limit, origin and IP fields, and clears them on the next try', async () => {
    const { page, org } = await signedIn();
    await keyward().createKey(org, { name: 'Strict', type: 'public', limits: [] });
    await reload(page);
    await pick(page, 'Strict', 'Edit…');
    const dialog = page.getByRole('dialog', { name: 'Edit key' });
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    await fillLimit(page, 'Edit key', 1, '10', '60', 'seconds');
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    await fillLimit(page, 'Edit key', 2, '0', '1', 'minutes');
    await dialog.getByLabel('Allowed origins').fill('https://app.example.com/path');
    await dialog.getByLabel('Allowed IP addresses').fill('10.0.0.1\n999.1.1.1');
    await dialog.getByRole('button', { name: 'Save changes' }).click();

    const limitsError = dialog.locator('#kw-edit-limits-error');
    await limitsError.waitFor();
    expect(await limitsError.textContent()).toMatch(/^Limit 2: Must be an integer from 1 to 1000000000\./);
    expect(await limitsError.textContent()).toContain(
      'Limit 2: Each limit must have a different window (or count per a different owner).',
    );
    expect(
      await dialog.getByRole('spinbutton', { name: 'Requests, limit 2' }).getAttribute('aria-invalid'),
    ).toBe('true');
    expect(
      await dialog.getByRole('spinbutton', { name: 'Requests, limit 1' }).getAttribute('aria-invalid'),
    ).toBeNull();
    const originsError = dialog.locator('#kw-edit-allowed-origins-error');
    expect(await originsError.textContent()).toMatch(
      /^Line 1 \(https:\/\/app\.example\.com\/path\): Must be an origin such as/,
    );
    expect(await dialog.getByLabel('Allowed origins').getAttribute('aria-invalid')).toBe('true');
    // The message is part of the field's description, so a screen reader says it with the field.
    expect(await dialog.getByLabel('Allowed origins').getAttribute('aria-describedby')).toContain(
      'kw-edit-allowed-origins-error',
    );
    expect(await dialog.locator('#kw-edit-allowed-ips-error').textContent()).toMatch(
      /^Line 2 \(999\.1\.1\.1\): Must be an IPv4 or IPv6 address or CIDR range/,
    );
    expect(await dialog.getByRole('alert').textContent()).toContain('The request is invalid.');
    if (UPDATE_SCREENSHOTS)
      await dialog.screenshot({ path: new URL('edit-policies-errors.png', SCREENSHOTS).pathname });

    // Fixed and saved: the messages go away.
    await fillLimit(page, 'Edit key', 2, '1000', '1', 'days');
    await dialog.getByLabel('Allowed origins').fill('https://app.example.com');
    await dialog.getByLabel('Allowed IP addresses').fill('10.0.0.1');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.locator('#kw-edit-limits-error').textContent()).toBe('');
  });

  it('creates a key with limits and IPs; only public keys get the origins field', async () => {
    const { page, org } = await signedIn();
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    expect(await dialog.getByLabel('Allowed origins').isVisible()).toBe(false);
    expect(await dialog.getByText(/default limits for its type/).isVisible()).toBe(true);
    await dialog.getByText('Public key', { exact: true }).click();
    expect(await dialog.getByLabel('Allowed origins').isVisible()).toBe(true);
    await dialog.getByLabel('Name').fill('Widget');
    await dialog.getByRole('button', { name: 'Add a limit' }).click();
    await fillLimit(page, 'New API key', 1, '5', '1', 'minutes');
    await dialog.getByLabel('Allowed origins').fill('https://shop.example.com');
    await dialog.getByLabel('Allowed IP addresses').fill('2001:db8::/32');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog', { name: 'Your new API key' }).waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    const { keys } = await keyward().listKeys(org, { q: 'Widget' });
    expect(keys[0]).toMatchObject({
      type: 'public',
      limits: [{ limit: 5, windowSeconds: 60 }],
      allowedOrigins: ['https://shop.example.com'],
      allowedIps: ['2001:db8::/32'],
    });
    await expect
      .poll(() => rowNamed(page, 'Widget').locator('.kw-policy').textContent())
      .toBe('Policies: 5 / minute · 1 origin · 1 IP address');

    // A public key made without limits gets the app's defaults (the demo: 10 per second, 10,000 per day).
    await page.getByRole('button', { name: 'New API key' }).click();
    await dialog.getByText('Public key', { exact: true }).click();
    await dialog.getByLabel('Name').fill('Defaults');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('button', { name: 'Done' }).click();
    await expect
      .poll(() => rowNamed(page, 'Defaults').locator('.kw-policy').textContent())
      .toBe('Policies: 10 / second · 10,000 / day');
  });

  it('says which keys expire within 7 days', async () => {
    const { page, org } = await signedIn();
    await keyward().createKey(org, {
      name: 'Soon',
      type: 'secret',
      expiresAt: new Date(demo.now() + 3 * DAY),
    });
    await keyward().createKey(org, {
      name: 'Later',
      type: 'secret',
      expiresAt: new Date(demo.now() + 30 * DAY),
    });
    const notice = page.locator('#kw-expiry-notice');
    expect(await notice.isVisible()).toBe(false);
    await reload(page);
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(
      /^1 key expires within 7 days: Soon \([A-Z][a-z]{2} \d{1,2}, \d{1,2}:\d{2} [AP]M\)\. Roll them/,
    );
  });

  it('says whether a rolled key is still in use during its grace period', async () => {
    const { page, org } = await signedIn();
    const { key, token } = await keyward().createKey(org, { name: 'Old server', type: 'secret' });
    await keyward().rollKey(org, key.id);
    await reload(page);
    const note = page.locator(`#kw-rows > tr[data-key-id="${key.id}"] .kw-still-used`);
    await expect.poll(() => note.textContent()).toBe('no use seen since the roll');
    const res = await fetch(`${demo.base()}/v1/whoami`, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await keyward().flushUsage();
    await reload(page);
    await expect.poll(() => note.textContent()).toMatch(/^still in use (now|\d+ seconds? ago)$/);
  });

  for (const theme of ['light', 'dark'] as const) {
    it(`finds no axe-core violation in the ${theme} theme with policies, their errors and notices`, async () => {
      const { page, org } = await signedIn({ theme });
      const states: Record<string, string[]> = {};
      await keyward().createKey(org, {
        name: 'Limited',
        type: 'public',
        expiresAt: new Date(demo.now() + 2 * DAY),
        limits: [{ limit: 10, windowSeconds: 1 }],
        allowedOrigins: ['https://app.example.com'],
        allowedIps: ['10.0.0.0/8'],
      });
      const rolled = await keyward().createKey(org, { name: 'Rolled', type: 'secret' });
      await keyward().rollKey(org, rolled.key.id);
      await reload(page);
      await page.locator('#kw-expiry-notice').waitFor();
      states['table with policies, notice, rolled key'] = await axeViolations(page);

      await page.getByRole('button', { name: 'New API key' }).click();
      const create = page.getByRole('dialog', { name: 'New API key' });
      await create.getByText('Public key', { exact: true }).click();
      await create.getByRole('button', { name: 'Add a limit' }).click();
      await create.getByRole('button', { name: 'Add a limit' }).click();
      states['create with limits'] = await axeViolations(page);
      await create.getByLabel('Name').fill('Bad');
      await create.getByLabel('Allowed IP addresses').fill('nope');
      await create.getByRole('button', { name: 'Create key' }).click();
      await create.locator('#kw-create-allowed-ips-error').waitFor();
      states['create with errors'] = await axeViolations(page);
      await create.getByRole('button', { name: 'Cancel' }).click();

      await pick(page, 'Limited', 'Edit…');
      const edit = page.getByRole('dialog', { name: 'Edit key' });
      states['edit with policies'] = await axeViolations(page);
      await edit.getByLabel('Allowed origins').fill('ftp:/x');
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await edit.locator('#kw-edit-allowed-origins-error').waitFor();
      states['edit with errors'] = await axeViolations(page);
      await edit.getByRole('button', { name: 'Cancel' }).click();

      await page.setViewportSize({ width: 375, height: 820 });
      states['375 px with policies'] = await axeViolations(page);

      console.log(
        `[axe ${theme} policies] ${Object.entries(states)
          .map(([s, v]) => `${s}: ${v.length}`)
          .join(', ')}`,
      );
      expect(states).toEqual(Object.fromEntries(Object.keys(states).map((s) => [s, []])));
    });
  }
});
