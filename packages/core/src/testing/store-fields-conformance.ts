import { describe, expect, it } from 'vitest';
import type { StoredKey } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';
import { makeStoredKey } from './helpers.js';

type WithStore = (run: (store: KeyStore, org: string) => Promise<void>) => Promise<void>;

/**
 * Conformance of the key's optional fields (meta, owner, createdBy, plan, per-owner limits), of
 * organization plans and of `list` with a query. Part of `runKeyStoreConformance`.
 */
export function describeStoreFieldsConformance(withStore: WithStore): void {
  it('keeps meta, owner, createdBy, plan and per-owner limits, and changes them on update', () =>
    withStore(async (store, org) => {
      const key = makeStoredKey({
        organizationId: org,
        meta: { customerId: 'cus_1', nested: { list: [1, 'two', null] } },
        owner: { type: 'service', id: 'billing' },
        createdBy: { type: 'user', id: 'admin_1' },
        plan: 'pro',
        limits: [{ limit: 5, windowSeconds: 60, per: 'owner' }],
      });
      await store.insert(key);
      expect(await store.findById(org, key.id)).toEqual(key);
      const updated = await store.update(org, key.id, { meta: null, owner: null, plan: null });
      // Cleared fields may come back as null or be left out (both read as "none").
      for (const read of [updated, await store.findById(org, key.id)]) {
        expect(read).not.toBeNull();
        expect(read?.meta ?? null).toBeNull();
        expect(read?.owner ?? null).toBeNull();
        expect(read?.plan ?? null).toBeNull();
        expect(read?.createdBy).toEqual({ type: 'user', id: 'admin_1' });
      }
    }));

  it('keeps one plan per organization when it has getOrganizationPlan/setOrganizationPlan', (ctx) =>
    withStore(async (store, org) => {
      if (!store.getOrganizationPlan || !store.setOrganizationPlan)
        return ctx.skip('the store has no getOrganizationPlan / setOrganizationPlan');
      expect(await store.getOrganizationPlan(org)).toBeNull();
      await store.setOrganizationPlan(org, 'free');
      await store.setOrganizationPlan(`${org}_other`, 'pro');
      expect(await store.getOrganizationPlan(org)).toBe('free');
      await store.setOrganizationPlan(org, 'pro');
      expect(await store.getOrganizationPlan(org)).toBe('pro');
      await store.setOrganizationPlan(org, null);
      expect(await store.getOrganizationPlan(org)).toBeNull();
      expect(await store.getOrganizationPlan(`${org}_other`)).toBe('pro');
    }));

  describe('pages and filters (list with a query)', () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const at = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
    const ids = (keys: StoredKey[]) => keys.map((k) => k.id);

    it('answers at most limit keys, newest first, and continues after a cursor', () =>
      withStore(async (store, org) => {
        const same = at(30);
        const keys = [
          makeStoredKey({ organizationId: org, createdAt: at(10) }),
          makeStoredKey({ organizationId: org, createdAt: same }),
          makeStoredKey({ organizationId: org, createdAt: same }),
          makeStoredKey({ organizationId: org, createdAt: same }),
          makeStoredKey({ organizationId: org, createdAt: at(50) }),
        ];
        for (const k of keys) await store.insert(k);
        await store.insert(makeStoredKey({ organizationId: `${org}_other`, createdAt: at(20) }));
        const all = ids(await store.list(org));
        expect(all).toHaveLength(5);
        const first = await store.list(org, { limit: 2, now });
        expect(ids(first)).toEqual(all.slice(0, 2));
        // The next page of two, after the last key of the page before.
        const pageAfter = (page: StoredKey[]) => {
          const last = page[1] as StoredKey;
          return store.list(org, { limit: 2, now, after: { createdAt: last.createdAt, id: last.id } });
        };
        const second = await pageAfter(first);
        expect(ids(second)).toEqual(all.slice(2, 4));
        const third = await pageAfter(second);
        expect(ids(third)).toEqual(all.slice(4));
      }));

    it('shows every key exactly once across pages while keys are created and deleted between pages', () =>
      withStore(async (store, org) => {
        const initial = Array.from({ length: 40 }, (_, i) =>
          makeStoredKey({ organizationId: org, createdAt: at(1000 - Math.floor(i / 3)) }),
        );
        for (const k of initial) await store.insert(k);
        const seen: string[] = [];
        const deleted = new Set<string>();
        let after: { createdAt: Date; id: string } | undefined;
        for (let page = 0; page < 100; page++) {
          const keys = await store.list(org, { limit: 7, now, ...(after && { after }) });
          seen.push(...ids(keys));
          const last = keys.at(-1);
          if (keys.length < 7 || !last) break;
          after = { createdAt: last.createdAt, id: last.id };
          // Between page loads: a new key arrives, and one not yet seen and one already seen go away.
          await store.insert(makeStoredKey({ organizationId: org, createdAt: at(-page) }));
          const unseen = initial.find((k) => !seen.includes(k.id) && !deleted.has(k.id));
          const old = initial.find((k) => seen.includes(k.id) && !deleted.has(k.id));
          for (const k of [unseen, old]) {
            if (!k) continue;
            deleted.add(k.id);
            await store.update(org, k.id, { deletedAt: now });
          }
        }
        expect(new Set(seen).size).toBe(seen.length);
        const expected = initial.filter((k) => seen.includes(k.id) || !deleted.has(k.id)).map((k) => k.id);
        expect([...seen].sort()).toEqual(expected.sort());
      }));

    it('filters by type and by name substring (ignoring case, metacharacters literal) or last 4', () =>
      withStore(async (store, org) => {
        const ci = makeStoredKey({ organizationId: org, name: 'Production CI', createdAt: at(1) });
        const dotted = makeStoredKey({ organizationId: org, name: 'a.b (c)*', createdAt: at(2) });
        const web = makeStoredKey({ organizationId: org, name: 'Web', type: 'public', createdAt: at(3) });
        const plain = makeStoredKey({ organizationId: org, name: 'axb cc', createdAt: at(4) });
        for (const k of [ci, dotted, web, plain]) await store.insert(k);
        const list = (query: Partial<Parameters<KeyStore['list']>[1]>) =>
          store.list(org, { limit: 50, now, ...query }).then(ids);
        expect(await list({ q: 'ci' })).toEqual([ci.id]);
        expect(await list({ q: 'PRODUCTION' })).toEqual([ci.id]);
        expect(await list({ q: '.b (c)*' })).toEqual([dotted.id]);
        expect(await list({ q: web.redactedKey.slice(-4) })).toContain(web.id);
        expect(await list({ q: 'nothing-like-it' })).toEqual([]);
        expect(await list({ type: 'public' })).toEqual([web.id]);
        expect(await list({ type: 'secret', q: 'b' })).toEqual([dotted.id, plain.id]);
      }));

    it('filters by status at now and leaves rolled keys whose grace has ended out by default', () =>
      withStore(async (store, org) => {
        const soon = new Date(now.getTime() + 60_000);
        const past = new Date(now.getTime() - 60_000);
        const active = makeStoredKey({ organizationId: org, createdAt: at(1), expiresAt: soon });
        const disabled = makeStoredKey({ organizationId: org, createdAt: at(2), disabled: true });
        const rolled = makeStoredKey({
          organizationId: org,
          createdAt: at(3),
          rolledAt: past,
          expiresAt: soon,
        });
        const ended = makeStoredKey({
          organizationId: org,
          createdAt: at(4),
          rolledAt: past,
          expiresAt: past,
        });
        const expired = makeStoredKey({
          organizationId: org,
          createdAt: at(5),
          expiresAt: now,
          disabled: true,
        });
        for (const k of [active, disabled, rolled, ended, expired]) await store.insert(k);
        const list = (status?: 'active' | 'rolled' | 'disabled' | 'expired') =>
          store.list(org, { limit: 50, now, ...(status && { status }) }).then(ids);
        expect(await list()).toEqual([active.id, disabled.id, rolled.id, expired.id]);
        expect(await list('active')).toEqual([active.id]);
        expect(await list('disabled')).toEqual([disabled.id]);
        expect(await list('rolled')).toEqual([rolled.id]);
        expect(await list('expired')).toEqual([ended.id, expired.id]);
        // Later, the active and rolled keys have expired too.
        const later = new Date(soon.getTime() + 1);
        expect(ids(await store.list(org, { limit: 50, now: later, status: 'expired' }))).toEqual([
          active.id,
          rolled.id,
          ended.id,
          expired.id,
        ]);
        expect(ids(await store.list(org, { limit: 50, now: later }))).toEqual([
          active.id,
          disabled.id,
          expired.id,
        ]);
      }));
  });
}
