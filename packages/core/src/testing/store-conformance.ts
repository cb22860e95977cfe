import { describe, expect, it } from 'vitest';
import { createTokenHasher } from '../format/hash.js';
import { newKeyId } from '../format/ids.js';
import { createKeyward } from '../keyward.js';
import { DuplicateKeyError } from '../shared/errors.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';
import { describeCreditLedgerConformance } from './credit-conformance.js';
import { runEventConformance } from './event-conformance.js';
import { type ConformanceOptions, makeStoredKey, TEST_PEPPER } from './helpers.js';
import { describeIdempotencyConformance } from './idempotency-conformance.js';
import { describeRehashConformance } from './rehash-conformance.js';
import { describeStoreFieldsConformance } from './store-fields-conformance.js';

const hash = createTokenHasher();
let orgCounter = 0;

/**
 * The store conformance suite: every `KeyStore` must pass it. Call it inside a Vitest test file.
 *
 * @example
 * runKeyStoreConformance('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
 */
export function runKeyStoreConformance(name: string, options: ConformanceOptions): void {
  const { createEventStore, destroyStore } = options;
  if (createEventStore) {
    runEventConformance(name, {
      createEventStore,
      makeKey: makeStoredKey,
      ...(destroyStore && { destroyStore }),
    });
  }
  async function withStore(run: (store: KeyStore, org: string) => Promise<void>): Promise<void> {
    const store = await options.createStore();
    try {
      await run(store, `org_${Date.now()}_${++orgCounter}`);
    } finally {
      await options.destroyStore?.(store);
    }
  }

  describe(`KeyStore conformance: ${name}`, () => {
    it('returns an inserted key by hash with every field intact', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({
          organizationId: org,
          expiresAt: new Date('2099-01-01T00:00:00.000Z'),
          scopes: ['a', 'b'],
        });
        await store.insert(key);
        expect(await store.findByHash(key.hash)).toEqual(key);
      }));

    it('keeps limits, allowed origins and addresses and the lineage id, and replaces them on update', () =>
      withStore(async (store, org) => {
        const first = makeStoredKey({ organizationId: org });
        const key = makeStoredKey({
          organizationId: org,
          type: 'public',
          limits: [
            { limit: 20, windowSeconds: 1 },
            { limit: 100_000, windowSeconds: 2_592_000 },
          ],
          allowedOrigins: ['https://app.example.com', 'https://*.example.org:8443'],
          allowedIps: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'],
          lineageId: first.id,
        });
        await store.insert(key);
        expect(await store.findByHash(key.hash)).toEqual(key);
        expect(await store.findById(org, key.id)).toEqual(key);
        const updated = await store.update(org, key.id, {
          limits: [{ limit: 5, windowSeconds: 60 }],
          allowedOrigins: [],
          allowedIps: ['::1'],
        });
        expect(updated).toMatchObject({
          limits: [{ limit: 5, windowSeconds: 60 }],
          allowedOrigins: [],
          allowedIps: ['::1'],
          lineageId: first.id,
        });
        expect(await store.findByHash(key.hash)).toEqual(updated);
      }));

    it('returns null for an unknown hash, id and slot', () =>
      withStore(async (store, org) => {
        expect(await store.findByHash(hash('nothing'))).toBeNull();
        expect(await store.findById(org, newKeyId())).toBeNull();
        expect(await store.findBySlot('default:nobody')).toBeNull();
      }));

    it('refuses a second key with the same hash, slot or id', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org, slot: `default:${org}` });
        await store.insert(key);
        await expect(
          store.insert(makeStoredKey({ organizationId: org, hash: key.hash })),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(
          store.insert(makeStoredKey({ organizationId: org, slot: key.slot })),
        ).rejects.toBeInstanceOf(DuplicateKeyError);
        await expect(store.insert(makeStoredKey({ organizationId: org, id: key.id }))).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
      }));

    it('finds a key by id only within its own organization', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        expect((await store.findById(org, key.id))?.id).toBe(key.id);
        expect(await store.findById(`${org}_other`, key.id)).toBeNull();
      }));

    it('lists an organization keys newest first and nobody else keys', () =>
      withStore(async (store, org) => {
        const older = makeStoredKey({ organizationId: org, createdAt: new Date('2030-01-01T00:00:00Z') });
        const newer = makeStoredKey({ organizationId: org, createdAt: new Date('2030-01-02T00:00:00Z') });
        await store.insert(older);
        await store.insert(newer);
        await store.insert(makeStoredKey({ organizationId: `${org}_other` }));
        expect((await store.list(org)).map((k) => k.id)).toEqual([newer.id, older.id]);
      }));

    it('breaks ties of creation time by id, descending', () =>
      withStore(async (store, org) => {
        const at = new Date('2030-01-01T00:00:00Z');
        const keys = [
          makeStoredKey({ organizationId: org, createdAt: at }),
          makeStoredKey({ organizationId: org, createdAt: at }),
        ];
        for (const k of keys) await store.insert(k);
        const expected = keys
          .map((k) => k.id)
          .sort()
          .reverse();
        expect((await store.list(org)).map((k) => k.id)).toEqual(expected);
      }));

    it('updates fields and returns the updated key', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        const expiresAt = new Date('2031-05-05T05:05:05.005Z');
        const updated = await store.update(org, key.id, {
          name: 'Renamed',
          scopes: [],
          disabled: true,
          expiresAt,
        });
        expect(updated).toMatchObject({ id: key.id, name: 'Renamed', scopes: [], disabled: true, expiresAt });
        expect(await store.findByHash(key.hash)).toMatchObject({
          name: 'Renamed',
          disabled: true,
          expiresAt,
        });
      }));

    it('does not update another organization key or an unknown id', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        expect(await store.update(`${org}_other`, key.id, { name: 'Stolen' })).toBeNull();
        expect(await store.update(org, newKeyId(), { name: 'Nobody' })).toBeNull();
        expect((await store.findById(org, key.id))?.name).toBe('Key');
      }));

    it('counts every write in version and applies a version-conditional update once only', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        expect((await store.findById(org, key.id))?.version).toBe(0);
        const first = await store.update(
          org,
          key.id,
          { rolledAt: new Date(), replacedBy: 'key_a' },
          { version: 0 },
        );
        const second = await store.update(
          org,
          key.id,
          { rolledAt: new Date(), replacedBy: 'key_b' },
          { version: 0 },
        );
        expect(first).toMatchObject({ replacedBy: 'key_a', version: 1 });
        expect(second).toBeNull();
        expect(await store.findById(org, key.id)).toMatchObject({ replacedBy: 'key_a', version: 1 });
        expect(await store.update(org, key.id, { name: 'Any version' })).toMatchObject({ version: 2 });
      }));

    it('moves a key to another free slot, and refuses a slot held by another key', () =>
      withStore(async (store, org) => {
        const held = makeStoredKey({ organizationId: org, slot: `held:${org}` });
        const key = makeStoredKey({ organizationId: org, slot: `claim:${org}` });
        await store.insert(held);
        await store.insert(key);
        await expect(store.update(org, key.id, { slot: held.slot })).rejects.toBeInstanceOf(
          DuplicateKeyError,
        );
        await store.update(org, key.id, { slot: `retired:${key.id}`, deletedAt: new Date() });
        expect((await store.findBySlot(`retired:${key.id}`))?.id).toBe(key.id);
        expect(await store.findBySlot(`claim:${org}`)).toBeNull();
        await store.insert(makeStoredKey({ organizationId: org, slot: `claim:${org}` }));
      }));

    it('does not apply a version-conditional update to a deleted key', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        await store.update(org, key.id, { deletedAt: new Date() });
        expect(await store.update(org, key.id, { name: 'Late' }, { version: 1 })).toBeNull();
      }));

    it('hides a deleted key from findById and list but still returns it by hash and slot', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org, slot: `default:${org}` });
        await store.insert(key);
        await store.update(org, key.id, { deletedAt: new Date() });
        expect(await store.findById(org, key.id)).toBeNull();
        expect(await store.list(org)).toEqual([]);
        expect((await store.findByHash(key.hash))?.deletedAt).toBeInstanceOf(Date);
        expect((await store.findBySlot(key.slot))?.id).toBe(key.id);
        expect(await store.update(org, key.id, { name: 'Zombie' })).toBeNull();
      }));

    it('returns copies that callers cannot use to change the store', () =>
      withStore(async (store, org) => {
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        key.name = 'Changed after insert';
        const found = await store.findByHash(key.hash);
        found?.scopes.push('evil');
        expect(await store.findByHash(key.hash)).toMatchObject({ name: 'Key', scopes: ['a:read'] });
      }));

    it('counts an organization keys that are not deleted (countKeys)', (ctx) =>
      withStore(async (store, org) => {
        if (!store.countKeys) return ctx.skip('the store has no countKeys');
        const keys = [1, 2, 3].map(() => makeStoredKey({ organizationId: org }));
        for (const key of keys) await store.insert(key);
        await store.insert(makeStoredKey({ organizationId: `${org}_other` }));
        await store.update(org, (keys[0] as StoredKey).id, { deletedAt: new Date(), updatedAt: new Date() });
        expect(await store.countKeys(org)).toBe(2);
      }));

    it('records last use only forward in time', (ctx) =>
      withStore(async (store, org) => {
        if (!store.recordUsage) return ctx.skip('the store has no recordUsage');
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-02T00:00:00Z') }]);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-01T00:00:00Z') }]);
        expect((await store.findById(org, key.id))?.lastUsedAt).toEqual(new Date('2030-01-02T00:00:00Z'));
      }));

    it('keeps usage buckets per instance: a rewrite replaces, instances add up, outside the range is left out', (ctx) =>
      withStore(async (store, org) => {
        if (!store.recordOutcomes || !store.readUsage)
          return ctx.skip('the store has no recordOutcomes / readUsage');
        const at = new Date('2030-01-01T10:00:00Z');
        const bucket = (instanceId: string, counts: Record<string, number>, when = at, keyId = 'key_a') => ({
          keyId,
          organizationId: org,
          granularity: 'hour' as const,
          at: when,
          instanceId,
          counts,
        });
        await store.recordOutcomes([bucket('i1', { admitted: 1 }), bucket('i2', { admitted: 2 })]);
        // A running total replaces the instance's earlier write of the bucket.
        await store.recordOutcomes([bucket('i1', { admitted: 5, rate_limited: 1 })]);
        await store.recordOutcomes([
          bucket('i1', { admitted: 7 }, new Date('2030-01-01T11:00:00Z')),
          bucket('i1', { admitted: 9 }, at, 'key_b'),
          { ...bucket('i1', { admitted: 100 }), granularity: 'minute' as const },
          { ...bucket('i1', { admitted: 100 }, at, 'key_c'), organizationId: `${org}_other` },
        ]);
        const rows = await store.readUsage({
          organizationId: org,
          granularity: 'hour',
          from: at,
          to: new Date('2030-01-01T11:00:00Z'),
        });
        const byKey = Object.fromEntries(rows.map((r) => [r.keyId, { at: r.at.toISOString(), ...r.counts }]));
        expect(byKey).toEqual({
          key_a: { at: at.toISOString(), admitted: 7, rate_limited: 1 },
          key_b: { at: at.toISOString(), admitted: 9 },
        });
        const one = await store.readUsage({
          organizationId: org,
          keyId: 'key_a',
          granularity: 'hour',
          from: at,
          to: new Date('2030-01-02T00:00:00Z'),
        });
        expect(one.map((r) => [r.keyId, r.at.toISOString(), r.counts.admitted]).sort()).toEqual([
          ['key_a', '2030-01-01T10:00:00.000Z', 7],
          ['key_a', '2030-01-01T11:00:00.000Z', 7],
        ]);
        if (store.sweepUsage) {
          // Hours are kept 90 days.
          expect(await store.sweepUsage(new Date('2030-01-02T00:00:00Z'))).toBe(0);
          expect(await store.sweepUsage(new Date('2030-04-02T00:00:00Z'))).toBeGreaterThanOrEqual(4);
          expect(
            await store.readUsage({
              organizationId: org,
              granularity: 'minute',
              from: at,
              to: new Date('2030-01-02T00:00:00Z'),
            }),
          ).toEqual([]);
        }
      }));

    it('creates one default key when 20 provisioning calls race', () =>
      withStore(async (store, org) => {
        const keyward = createKeyward({
          store,
          scopes: ['a:read'],
          publicScopes: ['a:read'],
          pepper: TEST_PEPPER,
        });
        const settled = await Promise.allSettled(
          Array.from({ length: 20 }, () => keyward.provisionOrganization(org)),
        );
        // A call may fail closed (503: a write whose lease ran out on a loaded server), never otherwise.
        for (const s of settled) {
          if (s.status === 'rejected')
            expect((s.reason as { code?: unknown }).code).toBe('key_store_unavailable');
        }
        const results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        // Whatever failed, a later call finds the one default key.
        results.push(await keyward.provisionOrganization(org));
        await keyward.close();
        expect(results.filter((r) => r.created).length).toBeLessThanOrEqual(1);
        const keys = await store.list(org);
        expect(keys).toHaveLength(1);
        expect(new Set(results.map((r) => r.key?.id))).toEqual(new Set([keys[0]?.id]));
      }));

    describeRehashConformance(withStore, makeStoredKey);
    describeIdempotencyConformance(withStore);
    describeCreditLedgerConformance(withStore);
    describeStoreFieldsConformance(withStore);
  });
}
