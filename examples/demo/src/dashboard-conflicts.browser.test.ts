// Two people editing one key (docs/reference.md §3, ETag / If-Match): the dashboard sends the key's
// version with every change, and when someone else changed the key since the page showed it, the write is
// refused (412), nothing changes, and the dialog says so in words.

import { describe, expect, it } from 'vitest';
import { pick, reload, rowNamed, useDashboard } from './dashboard-harness.js';

const demo = useDashboard();
const { signedIn } = demo;
const keyward = () => demo.keyward();

describe('dashboard, a key changed by someone else meanwhile', () => {
  it('refuses the edit with a clear message and keeps the other change', async () => {
    const { page, org } = await signedIn();
    const { key } = await keyward().createKey(org, { name: 'Shared', type: 'secret' });
    await reload(page);
    await pick(page, 'Shared', 'Edit…');
    const dialog = page.getByRole('dialog', { name: 'Edit key' });
    // Someone else renames it after this page read it.
    await keyward().updateKey(org, key.id, { name: 'Renamed elsewhere' });
    await dialog.getByLabel('Name').fill('Mine');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await expect
      .poll(() => dialog.textContent())
      .toContain('Someone else changed this key since this page showed it.');
    expect(await dialog.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    // Nothing of this edit was written: the other change stands.
    expect((await keyward().getKey(org, key.id))?.name).toBe('Renamed elsewhere');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => rowNamed(page, 'Renamed elsewhere').count()).toBe(1);
  });

  it('refuses a delete confirmed after someone else changed the key', async () => {
    const { page, org } = await signedIn();
    const { key } = await keyward().createKey(org, { name: 'Contested', type: 'secret' });
    await reload(page);
    await pick(page, 'Contested', 'Delete…');
    const dialog = page.getByRole('dialog', { name: 'Delete this key?' });
    await keyward().updateKey(org, key.id, { scopes: [] });
    await dialog.getByRole('button', { name: 'Delete key' }).click();
    await expect
      .poll(() => dialog.textContent())
      .toContain('Someone else changed this key since this page showed it.');
    expect((await keyward().getKey(org, key.id))?.id).toBe(key.id);
  });
});
