import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenHasher } from '../format/hash.js';
import { sha256Hex } from '../format/pepper.js';
import { createKeyward } from '../keyward.js';
import { DuplicateKeyError } from '../shared/errors.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';

type WithStore = (run: (store: KeyStore, org: string) => Promise<void>) => Promise<void>;
type MakeKey = (fields?: Partial<StoredKey>) => StoredKey;

const PEPPER_A = 'conformance-pepper-a-not-secret';
const PEPPER_B = 'conformance-pepper-b-not-secret';

/**
 * Conformance of the optional extras `rehash` and `insertMany`, and of pepper rotation and imports through
 * the service (which need `rehash` to move keys). Part of `runKeyStoreConformance`.
 */
export function describeRehashConformance(withStore: WithStore, makeStoredKey: MakeKey): void {
  const service = (store: KeyStore, pepper: string | [string, ...string[]]) =>
    createKeyward({
      store,
      pepper,
      scopes: ['a:read'],
      publicScopes: ['a:read'],
      cache: false,
      legacyTokens: { pattern: /^legacy_[0-9a-f]{32}$/ },
    });

  describe('re-hashing and bulk insert (optional extras)', () => {
    it('moves a key to a new hash: found by the new one, not the old, everything else intact', (ctx) =>
      withStore(async (store, org) => {
        if (!store.rehash) return ctx.skip('the store has no rehash');
        const key = makeStoredKey({ organizationId: org, scopes: ['a', 'b'] });
        await store.insert(key);
        const to = createTokenHasher(PEPPER_B)('some token');
        const moved = await store.rehash(key, to);
        expect(moved).toEqual({ ...key, hash: to, version: key.version + 1 });
        expect(await store.findByHash(to)).toEqual(moved);
        expect(await store.findByHash(key.hash)).toBeNull();
        expect(await store.findById(org, key.id)).toEqual(moved);
        expect(await store.findBySlot(key.slot)).toEqual(moved);
        expect((await store.list(org)).map((k) => k.hash)).toEqual([to]);
        // It goes on like any key.
        expect(await store.update(org, key.id, { name: 'Renamed' })).toMatchObject({
          hash: to,
          name: 'Renamed',
        });
      }));

    it('does not move a key that changed, moved or was deleted since it was read', (ctx) =>
      withStore(async (store, org) => {
        if (!store.rehash) return ctx.skip('the store has no rehash');
        const changed = makeStoredKey({ organizationId: org });
        await store.insert(changed);
        await store.update(org, changed.id, { name: 'Changed' });
        expect(await store.rehash(changed, createTokenHasher(PEPPER_B)('t1'))).toBeNull();
        expect(await store.findByHash(changed.hash)).toMatchObject({ name: 'Changed' });
        expect(await store.findByHash(createTokenHasher(PEPPER_B)('t1'))).toBeNull();

        const deleted = makeStoredKey({ organizationId: org });
        await store.insert(deleted);
        const tombstone = await store.update(org, deleted.id, { deletedAt: new Date() });
        expect(await store.rehash(tombstone as StoredKey, createTokenHasher(PEPPER_B)('t2'))).toBeNull();
        expect(await store.findByHash(createTokenHasher(PEPPER_B)('t2'))).toBeNull();
        expect((await store.findByHash(deleted.hash))?.deletedAt).not.toBeNull();

        const twice = makeStoredKey({ organizationId: org });
        await store.insert(twice);
        expect(await store.rehash(twice, createTokenHasher(PEPPER_B)('t3'))).not.toBeNull();
        expect(await store.rehash(twice, createTokenHasher(PEPPER_B)('t3'))).toBeNull();
        expect(await store.findByHash(createTokenHasher(PEPPER_B)('t3'))).toMatchObject({ id: twice.id });
      }));

    it('refuses to move a key onto a hash another key holds, and leaves both as they were', (ctx) =>
      withStore(async (store, org) => {
        if (!store.rehash) return ctx.skip('the store has no rehash');
        const a = makeStoredKey({ organizationId: org });
        const b = makeStoredKey({ organizationId: org });
        await store.insert(a);
        await store.insert(b);
        await expect(store.rehash(a, b.hash)).rejects.toBeInstanceOf(DuplicateKeyError);
        expect(await store.findByHash(a.hash)).toEqual(a);
        expect(await store.findByHash(b.hash)).toEqual(b);
        expect(await store.findById(org, a.id)).toEqual(a);
      }));

    it('inserts many keys at once and reports each duplicate at its place', (ctx) =>
      withStore(async (store, org) => {
        if (!store.insertMany) return ctx.skip('the store has no insertMany');
        const first = makeStoredKey({ organizationId: org });
        await store.insert(first);
        const fresh = Array.from({ length: 5 }, () => makeStoredKey({ organizationId: org }));
        const sameHash = makeStoredKey({ organizationId: org, hash: first.hash });
        const sameSlot = makeStoredKey({ organizationId: org, slot: fresh[0]?.slot as string });
        const outcomes = await store.insertMany([
          fresh[0],
          sameHash,
          ...fresh.slice(1),
          sameSlot,
        ] as StoredKey[]);
        expect(outcomes.map((o) => (o === null ? 'ok' : o.name))).toEqual([
          'ok',
          'DuplicateKeyError',
          'ok',
          'ok',
          'ok',
          'ok',
          'DuplicateKeyError',
        ]);
        expect((await store.list(org)).map((k) => k.id).sort()).toEqual(
          [first, ...fresh].map((k) => k.id).sort(),
        );
        for (const key of fresh) expect(await store.findByHash(key.hash)).toEqual(key);
      }));

    it('rotates the pepper: a key of pepper A verifies under [B, A], moves to B, then verifies under [B] alone', (ctx) =>
      withStore(async (store, org) => {
        if (!store.rehash) return ctx.skip('the store has no rehash');
        const old = service(store, PEPPER_A);
        const { key, token } = await old.createKey(org, { name: 'Before', type: 'secret' });
        await old.close();
        const before = await store.findById(org, key.id);
        expect(before?.hash).toBe(createTokenHasher(PEPPER_A)(token));

        const rotating = service(store, [PEPPER_B, PEPPER_A]);
        expect(await rotating.verify(token)).toMatchObject({ valid: true, key: { id: key.id } });
        const after = await store.findById(org, key.id);
        expect(after?.hash, 'the stored hash changed to pepper B').toBe(createTokenHasher(PEPPER_B)(token));
        expect(await store.findByHash(createTokenHasher(PEPPER_A)(token))).toBeNull();
        expect(await rotating.verify(token)).toMatchObject({ valid: true });
        await rotating.close();

        const rotated = service(store, PEPPER_B);
        expect(await rotated.verify(token)).toMatchObject({ valid: true, key: { id: key.id } });
        // An instance still on [A] alone no longer finds the key: documented, it fails closed.
        const stale = service(store, PEPPER_A);
        expect(await stale.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
        await rotated.close();
        await stale.close();
      }));

    it('imports by SHA-256 digest: verifies, is upgraded to the current hash on first use, and still verifies', () =>
      withStore(async (store, org) => {
        const keyward = service(store, PEPPER_B);
        const token = `legacy_${randomBytes(16).toString('hex')}`;
        const imported = await keyward.importKey(org, {
          sha256: sha256Hex(token),
          name: 'Old',
          type: 'secret',
        });
        expect(imported).toMatchObject({ legacy: true, status: 'active' });
        expect((await store.findById(org, imported.id))?.hash).toBe(sha256Hex(token));
        expect(await keyward.verify(token)).toMatchObject({ valid: true, key: { id: imported.id } });
        if (store.rehash) {
          const upgraded = await store.findById(org, imported.id);
          expect(upgraded?.hash, 'the stored hash changed').toBe(createTokenHasher(PEPPER_B)(token));
          expect(upgraded?.legacy).toBe(true);
          expect(await store.findByHash(sha256Hex(token))).toBeNull();
        }
        expect(await keyward.verify(token)).toMatchObject({ valid: true, key: { id: imported.id } });
        await keyward.close();
      }));

    it('lets 10 concurrent first uses of a key of an old pepper all verify and move it once', (ctx) =>
      withStore(async (store, org) => {
        if (!store.rehash) return ctx.skip('the store has no rehash');
        const old = service(store, PEPPER_A);
        const { key, token } = await old.createKey(org, { name: 'Busy', type: 'secret' });
        await old.close();
        const instances = Array.from({ length: 10 }, () => service(store, [PEPPER_B, PEPPER_A]));
        const results = await Promise.all(instances.map((k) => k.verify(token)));
        for (const result of results) expect(result).toMatchObject({ valid: true, key: { id: key.id } });
        expect((await store.findById(org, key.id))?.hash).toBe(createTokenHasher(PEPPER_B)(token));
        expect(await store.list(org)).toHaveLength(1);
        expect(await store.findByHash(createTokenHasher(PEPPER_A)(token))).toBeNull();
        await Promise.all(instances.map((k) => k.close()));
      }));
  });
}
