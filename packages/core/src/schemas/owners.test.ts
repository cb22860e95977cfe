import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../store/memory-store.js';
import { testKeyward } from '../testing/fixtures.js';
import { MAX_META_BYTES } from './owner-schemas.js';

const ORG = 'org_owners';
const OTHER_ORG = 'org_owners_other';

const alice = { type: 'user' as const, id: 'u_alice' };
const billing = { type: 'service' as const, id: 'billing' };

describe('meta', () => {
  it('is set on create, changed or removed by update, copied on roll and returned by verify', async () => {
    const { keyward } = testKeyward();
    const { key, token } = await keyward.createKey(ORG, {
      name: 'Meta',
      type: 'secret',
      meta: { customerId: 'cus_42', tier: { name: 'pro', seats: 3 } },
    });
    expect(key.meta).toEqual({ customerId: 'cus_42', tier: { name: 'pro', seats: 3 } });
    const verified = await keyward.verify(token);
    expect(verified.valid && verified.key.meta).toEqual(key.meta);
    // Frozen all the way down: a handler cannot change what later requests see.
    expect(verified.valid && Object.isFrozen((verified.key.meta as { tier: object }).tier)).toBe(true);

    const updated = await keyward.updateKey(ORG, key.id, { meta: { customerId: 'cus_43' } });
    expect(updated.meta).toEqual({ customerId: 'cus_43' });
    const again = await keyward.verify(token);
    expect(again.valid && again.key.meta).toEqual({ customerId: 'cus_43' });

    const rolled = await keyward.rollKey(ORG, key.id);
    expect(rolled.key.meta).toEqual({ customerId: 'cus_43' });
    const successor = await keyward.verify(rolled.token);
    expect(successor.valid && successor.key.meta).toEqual({ customerId: 'cus_43' });

    expect((await keyward.updateKey(ORG, rolled.key.id, { meta: null })).meta).toBeNull();
    const none = await keyward.verify(rolled.token);
    expect(none.valid && none.key.meta).toBeNull();
  });

  it('refuses more than 1 kB serialized, and anything but a JSON object', async () => {
    const { keyward } = testKeyward();
    const big = { blob: 'x'.repeat(MAX_META_BYTES) };
    for (const meta of [big, [1, 2], 'text', 3]) {
      await expect(
        keyward.createKey(ORG, { name: 'M', type: 'secret', meta: meta as never }),
      ).rejects.toMatchObject({ code: 'validation_error' });
    }
    // Exactly at the bound is fine: {"b":"…"} is 8 bytes plus the string.
    const fits = { b: 'é'.repeat((MAX_META_BYTES - 8) / 2) };
    expect((await keyward.createKey(ORG, { name: 'M', type: 'secret', meta: fits })).key.meta).toEqual(fits);
  });

  it('records a key.updated event naming meta (never its value) and is never shown to another organization', async () => {
    const { keyward } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'M', type: 'secret', meta: { a: 1 } });
    await keyward.updateKey(ORG, key.id, { meta: { a: 2 } });
    const { events } = await keyward.listEvents(ORG, { keyId: key.id });
    expect(events.find((e) => e.type === 'key.updated')).toMatchObject({ changes: ['meta'] });
    expect(JSON.stringify(events)).not.toContain('"a"');
    expect(await keyward.getKey(OTHER_ORG, key.id)).toBeNull();
    expect((await keyward.listKeys(OTHER_ORG)).keys).toEqual([]);
  });
});

describe('owner and createdBy', () => {
  it('keeps the owner and the creating actor on the key, copies both on roll, and filters lists by owner', async () => {
    const { keyward } = testKeyward();
    const context = { actor: { type: 'user' as const, id: 'admin_1' } };
    const mine = await keyward.createKey(ORG, { name: 'Mine', type: 'secret', owner: alice }, context);
    const service = await keyward.createKey(ORG, { name: 'Svc', type: 'secret', owner: billing });
    const org = await keyward.createKey(ORG, { name: 'Org', type: 'secret' });
    expect(mine.key).toMatchObject({ owner: alice, createdBy: { type: 'user', id: 'admin_1' } });
    expect(service.key.createdBy).toEqual({ type: 'system', id: 'keyward' });
    expect(org.key.owner).toBeNull();

    const ids = async (owner: string) => (await keyward.listKeys(ORG, { owner })).keys.map((k) => k.id);
    expect(await ids('user:u_alice')).toEqual([mine.key.id]);
    expect(await ids('service:billing')).toEqual([service.key.id]);
    expect(await ids('user:billing')).toEqual([]);
    await expect(keyward.listKeys(ORG, { owner: 'team:x' })).rejects.toMatchObject({
      code: 'validation_error',
    });

    const moved = await keyward.updateKey(ORG, org.key.id, { owner: billing });
    expect(moved.owner).toEqual(billing);
    expect((await ids('service:billing')).sort()).toEqual([service.key.id, org.key.id].sort());

    const rolled = await keyward.rollKey(ORG, mine.key.id);
    expect(rolled.key).toMatchObject({ owner: alice, createdBy: { type: 'user', id: 'admin_1' } });
  });

  it('revokeOwnerKeys disables 1,000 keys of one owner with one event each: refused at once here and by another instance on the store', async () => {
    const store = new MemoryKeyStore();
    // 1,001 keys in one organization: over the default cap of 1,000 keys per organization.
    const { keyward: a } = testKeyward({ store, maxKeysPerOrganization: 2_000 });
    const { keyward: b } = testKeyward({ store, maxKeysPerOrganization: 2_000 });
    const tokens: string[] = [];
    for (let i = 0; i < 1000; i++) {
      tokens.push((await a.createKey(ORG, { name: `K${i}`, type: 'secret', owner: alice })).token);
    }
    const other = await a.createKey(ORG, { name: 'Other', type: 'secret', owner: billing });
    // Both instances have every key cached as valid.
    for (const token of tokens) {
      expect((await a.verify(token)).valid).toBe(true);
      expect((await b.verify(token)).valid).toBe(true);
    }

    const { keyIds } = await a.revokeOwnerKeys(ORG, alice, { action: 'disable' });
    expect(keyIds).toHaveLength(1000);
    for (const token of tokens) {
      expect(await a.verify(token)).toMatchObject({ valid: false, code: 'disabled_api_key' });
      // The memory store's change feed is immediate: the other instance's freshness bound is 0 here.
      expect(await b.verify(token)).toMatchObject({ valid: false, code: 'disabled_api_key' });
    }
    expect((await b.verify(other.token)).valid).toBe(true);

    const disabled: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await a.listEvents(ORG, { type: 'key.disabled', limit: 100, ...(cursor && { cursor }) });
      disabled.push(...page.events.map((e) => e.keyId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(disabled.sort()).toEqual([...keyIds].sort());

    // Again: nothing left to disable, no event.
    expect((await a.revokeOwnerKeys(ORG, alice, { action: 'disable' })).keyIds).toEqual([]);
    // Delete: every key of the owner, one key.deleted each; the other owner's key stays.
    const deleted = await b.revokeOwnerKeys(ORG, alice, { action: 'delete' });
    expect(deleted.keyIds.sort()).toEqual([...keyIds].sort());
    expect(await a.verify(tokens[0] as string)).toMatchObject({ valid: false, code: 'invalid_api_key' });
    expect((await a.listKeys(ORG, { owner: 'user:u_alice' })).keys).toEqual([]);
    expect((await a.getKey(ORG, other.key.id))?.disabled).toBe(false);
  }, 60_000);

  it('revokeOwnerKeys refuses a missing owner or action, and touches no other organization', async () => {
    const { keyward } = testKeyward();
    const theirs = await keyward.createKey(OTHER_ORG, { name: 'T', type: 'secret', owner: alice });
    await expect(keyward.revokeOwnerKeys(ORG, null as never, { action: 'disable' })).rejects.toMatchObject({
      code: 'validation_error',
    });
    await expect(keyward.revokeOwnerKeys(ORG, alice, { action: 'wipe' as never })).rejects.toMatchObject({
      code: 'validation_error',
    });
    expect((await keyward.revokeOwnerKeys(ORG, alice, { action: 'delete' })).keyIds).toEqual([]);
    expect((await keyward.verify(theirs.token)).valid).toBe(true);
  });
});
