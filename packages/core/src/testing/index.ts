import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { KeyEvent } from '../events/events.js';
import { createTokenHasher } from '../format/hash.js';
import { newKeyId } from '../format/ids.js';
import { generateToken, redactToken } from '../format/key-format.js';
import { createKeyward } from '../keyward.js';
import { DuplicateKeyError, isKeywardError } from '../shared/errors.js';
import type { KeyType, StoredKey } from '../shared/types.js';
import type { EventStoreOptions } from '../store/event-log.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyChanges, KeyStore } from '../store/store.js';
import { runEventConformance } from './event-conformance.js';
import { describeIdempotencyConformance } from './idempotency-conformance.js';
import { describeRehashConformance } from './rehash-conformance.js';

export interface ConformanceOptions {
  /** A fresh, empty store for one test. */
  createStore: () => Promise<KeyStore> | KeyStore;
  /** A fresh store built with event options: when given, the events conformance suite runs too. */
  createEventStore?: (options: EventStoreOptions) => Promise<KeyStore> | KeyStore;
  /** Called after each test with the store it used. */
  destroyStore?: (store: KeyStore) => Promise<void> | void;
}

const hash = createTokenHasher();
let orgCounter = 0;

/**
 * A stored key with fresh id, token and hash; fields can be overridden.
 *
 * @example
 * await store.insert(makeStoredKey({ organizationId: 'org_1' }));
 */
export function makeStoredKey(fields: Partial<StoredKey> = {}): StoredKey {
  const type: KeyType = fields.type ?? 'secret';
  const token = generateToken('kw', type);
  const id = fields.id ?? newKeyId();
  const at = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    id,
    organizationId: 'org_conformance',
    name: 'Key',
    type,
    scopes: ['a:read'],
    hash: hash(token),
    token: type === 'public' ? token : null,
    redactedKey: redactToken(token),
    isDefault: false,
    slot: id,
    createdAt: at,
    updatedAt: at,
    expiresAt: null,
    lastUsedAt: null,
    disabled: false,
    rolledAt: null,
    replacedBy: null,
    deletedAt: null,
    version: 0,
    limits: [],
    allowedOrigins: [],
    allowedIps: [],
    lineageId: id,
    ...fields,
  };
}

/**
 * A pepper for tests (never use a published pepper in production).
 *
 * @example
 * createKeyward({ store, scopes, pepper: TEST_PEPPER });
 */
export const TEST_PEPPER = 'keyward-test-pepper-not-secret';

/**
 * A controllable clock for `createKeyward({ clock })`, starting at 2030-01-01T00:00:00Z.
 *
 * @example
 * const clock = testClock();
 * const keyward = createKeyward({ store, scopes, clock: clock.now });
 * clock.advance(60_000);
 */
export function testClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

/**
 * A real `MemoryKeyStore` behind a switch: `state.fail = true` makes `findByHash` fail as an unreachable
 * database would; `state.lookups` counts `findByHash` calls.
 *
 * @example
 * const { store, state } = switchableStore();
 * state.fail = true; // verify now answers key_store_unavailable for uncached keys
 */
export function switchableStore(inner: MemoryKeyStore = new MemoryKeyStore()) {
  const state = { fail: false, lookups: 0 };
  const store = delegatingStore(inner, {
    findByHash: async (h) => {
      state.lookups++;
      if (state.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:27017');
      return inner.findByHash(h);
    },
  });
  return { store, state };
}

/**
 * A `KeyStore` that forwards every call, with all its arguments, to `inner`, except the methods given in
 * `overrides`: the base of test stores that fail, wait or count.
 *
 * @example
 * const failing = delegatingStore(new MemoryKeyStore(), { findByHash: async () => { throw new Error('down'); } });
 */
export function delegatingStore(inner: KeyStore, overrides: Partial<KeyStore> = {}): KeyStore {
  return {
    insert: (key, event) => inner.insert(key, event),
    findByHash: (hash) => inner.findByHash(hash),
    findById: (org, id) => inner.findById(org, id),
    findBySlot: (slot) => inner.findBySlot(slot),
    list: (org, query) => inner.list(org, query),
    update: (org, id, changes, options) => inner.update(org, id, changes, options),
    ...(inner.recordUsage && { recordUsage: (entries) => inner.recordUsage?.(entries) ?? Promise.resolve() }),
    ...(inner.subscribe && { subscribe: (listener) => inner.subscribe?.(listener) ?? (() => {}) }),
    ...(inner.insertMany && {
      insertMany: (keys, events) => inner.insertMany?.(keys, events) ?? Promise.resolve([]),
    }),
    ...(inner.rehash && { rehash: (key, hash) => inner.rehash?.(key, hash) ?? Promise.resolve(null) }),
    ...(inner.listEvents && {
      listEvents: (org, query) => inner.listEvents?.(org, query) ?? Promise.resolve([]),
    }),
    ...(inner.appendEvent && { appendEvent: (event) => inner.appendEvent?.(event) ?? Promise.resolve() }),
    ...(inner.deliverEvents && { deliverEvents: () => inner.deliverEvents?.() ?? Promise.resolve(0) }),
    ...(inner.sweepEvents && { sweepEvents: (now) => inner.sweepEvents?.(now) ?? Promise.resolve(0) }),
    ...(inner.listExpiring && {
      listExpiring: (query) => inner.listExpiring?.(query) ?? Promise.resolve([]),
    }),
    ...overrides,
  };
}

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

    it('counts an organization keys that are not deleted (countKeys)', () =>
      withStore(async (store, org) => {
        if (!store.countKeys) return;
        const keys = [1, 2, 3].map(() => makeStoredKey({ organizationId: org }));
        for (const key of keys) await store.insert(key);
        await store.insert(makeStoredKey({ organizationId: `${org}_other` }));
        await store.update(org, (keys[0] as StoredKey).id, { deletedAt: new Date(), updatedAt: new Date() });
        expect(await store.countKeys(org)).toBe(2);
      }));

    it('records last use only forward in time', () =>
      withStore(async (store, org) => {
        if (!store.recordUsage) return;
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-02T00:00:00Z') }]);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-01T00:00:00Z') }]);
        expect((await store.findById(org, key.id))?.lastUsedAt).toEqual(new Date('2030-01-02T00:00:00Z'));
      }));

    it('keeps usage buckets per instance: a rewrite replaces, instances add up, outside the range is left out', () =>
      withStore(async (store, org) => {
        if (!store.recordOutcomes || !store.readUsage) return;
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
        const results = await Promise.all(
          Array.from({ length: 20 }, () => keyward.provisionOrganization(org)),
        );
        await keyward.close();
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const keys = await store.list(org);
        expect(keys).toHaveLength(1);
        expect(new Set(results.map((r) => r.key?.id))).toEqual(new Set([keys[0]?.id]));
      }));

    describeRehashConformance(withStore, makeStoredKey);
    describeIdempotencyConformance(withStore);

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

    it('keeps one plan per organization when it has getOrganizationPlan/setOrganizationPlan', () =>
      withStore(async (store, org) => {
        if (!store.getOrganizationPlan || !store.setOrganizationPlan) return;
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
          const last = first[1] as StoredKey;
          const second = await store.list(org, {
            limit: 2,
            now,
            after: { createdAt: last.createdAt, id: last.id },
          });
          expect(ids(second)).toEqual(all.slice(2, 4));
          const end = second[1] as StoredKey;
          const third = await store.list(org, {
            limit: 2,
            now,
            after: { createdAt: end.createdAt, id: end.id },
          });
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
  });
}

/**
 * `store` with every call delayed by about `ms` (half before the call, half after, each jittered by ±50%),
 * as a remote database would: concurrent service calls then interleave their reads and writes.
 * `onWrite` sees every write that happened, with the version it produced.
 *
 * @example
 * const keyward = createKeyward({ store: withLatency(new MemoryKeyStore(), { ms: 20 }), scopes, pepper });
 */
export function withLatency(
  inner: KeyStore,
  {
    ms = 20,
    onWrite,
    random = Math.random,
  }: {
    ms?: number;
    /** Each insert (`changes` = `{}`, `after` = the key), update and re-hash that happened, with its event. */
    onWrite?: (id: string, changes: KeyChanges, after: StoredKey, event?: KeyEvent) => void;
    /** Source of the jitter (a seeded one makes a run replayable). @default Math.random */
    random?: () => number;
  } = {},
): KeyStore {
  const pause = () => sleep((ms / 2) * (0.5 + random()));
  const delayed =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await pause();
      const result = await call(...args);
      await pause();
      return result;
    };
  return {
    insert: delayed(async (key, event) => {
      await inner.insert(key, event);
      onWrite?.(key.id, {}, key, event);
    }),
    findByHash: delayed((hash) => inner.findByHash(hash)),
    findById: delayed((org, id) => inner.findById(org, id)),
    findBySlot: delayed((slot) => inner.findBySlot(slot)),
    list: delayed((org, query) => inner.list(org, query)),
    update: delayed(async (org, id, changes, options) => {
      const after = await inner.update(org, id, changes, options);
      if (after) {
        onWrite?.(id, changes, after, options?.event);
        if (options?.successor) onWrite?.(options.successor.id, {}, options.successor);
      }
      return after;
    }),
    ...(inner.rehash && {
      rehash: delayed(async (key, hash) => {
        const after = (await inner.rehash?.(key, hash)) ?? null;
        if (after) onWrite?.(key.id, { hash } as KeyChanges, after);
        return after;
      }),
    }),
    ...(inner.recordUsage && {
      recordUsage: delayed((entries) => inner.recordUsage?.(entries) ?? Promise.resolve()),
    }),
    ...(inner.subscribe && { subscribe: (listener) => inner.subscribe?.(listener) ?? (() => {}) }),
    ...(inner.listEvents && {
      listEvents: delayed((org, query) => inner.listEvents?.(org, query) ?? Promise.resolve([])),
    }),
    ...(inner.appendEvent && {
      appendEvent: delayed((event) => inner.appendEvent?.(event) ?? Promise.resolve()),
    }),
  };
}

/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same sequence.
 *
 * @example
 * const random = seededRandom(42); random(); // 0.6011037519201636
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * What `runRaceScenarios` checks after every round:
 * - `rolled-key-expiry`: a rolled key has an expiry, no later than the end of its grace period;
 * - `no-roll-of-disabled`: a roll never lands on a disabled key (a key disabled after its roll is fine);
 * - `one-successor`: a key has at most one live successor, the one its `replacedBy` names;
 * - `one-roll-wins`: of two concurrent rolls of one key, exactly one succeeds;
 * - `deleted-stays-deleted`: once `deleteKey` returned, the key stays deleted and no verify started after
 *   it accepts the key (on the instance that deleted it);
 * - `revocation-holds`: a disable or delete that returned is still in the store after usage flushes;
 * - `no-lost-update`: a PATCH that returned is still in the store after a concurrent re-hash, and the key is
 *   found by exactly one of its hashes;
 * - `one-import`: of two concurrent imports of one token, exactly one succeeds, and the store holds one key;
 * - `serial-writes`: writes of one key that succeeded produced distinct versions (compare-and-set held);
 * - `one-event-per-change`: the event log holds exactly the events of the writes that happened.
 */
export type RaceInvariant =
  | 'rolled-key-expiry'
  | 'no-roll-of-disabled'
  | 'one-successor'
  | 'one-roll-wins'
  | 'deleted-stays-deleted'
  | 'revocation-holds'
  | 'no-lost-update'
  | 'one-import'
  | 'serial-writes'
  | 'one-event-per-change';

export interface RaceScenarioOptions extends ConformanceOptions {
  /**
   * More stores on the data of `store` (each another app instance with a connection of its own): the two
   * sides of a race then run on different instances. Without it, both run on one.
   */
  createPeers?: (store: KeyStore) => Promise<KeyStore[]> | KeyStore[];
  /** Rounds per scenario, each on a fresh key. @default 20 */
  rounds?: number;
  /** Rounds run at the same time (each on its own key). @default 4 */
  parallel?: number;
  /** Delay added to every store call, in ms (see `withLatency`). @default 20 */
  latencyMs?: number;
  /** Seed of every random choice (offsets, jitter): the same seed replays the same schedule. @default random */
  seed?: number;
  /**
   * Invariants the store cannot promise: counted and reported, not asserted. Everything else is asserted.
   * @default none
   */
  measureOnly?: RaceInvariant[];
  /**
   * Receives each scenario's violation counts, e.g. to print the measured figures from a test file.
   * @default nothing (a library never prints)
   */
  report?: (scenario: string, rounds: number, violations: Partial<Record<RaceInvariant, number>>) => void;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

const RACE_GRACE_SECONDS = 3_600;
const raceHash = createTokenHasher(TEST_PEPPER);
const RACE_SCOPES = ['a:read'];
const ROTATED_PEPPER = 'keyward-race-pepper-b-not-secret';
const rotatedHash = createTokenHasher(ROTATED_PEPPER);
const LEGACY_PATTERN = /^legacy_[0-9a-f]{32}$/;

/**
 * Races pairs of service calls on one key through `createKeyward`, with a delay on every store call, and
 * checks the documented consistency rules after every round (see `RaceInvariant`): roll‖PATCH
 * {expiresAt: null}, roll‖disable, roll‖delete, roll‖roll, delete‖verify, disable‖usage flush,
 * delete‖usage flush, PATCH‖re-hash (first use after a pepper rotation), import‖import; and, on stores
 * with `listEvents`, that the log holds exactly the events of the writes that happened. With
 * `createPeers`, the two sides run on different instances. Call it inside a Vitest test file; each
 * scenario is one test.
 *
 * @example
 * runRaceScenarios('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
 */
export function runRaceScenarios(name: string, options: RaceScenarioOptions): void {
  const rounds = options.rounds ?? 20;
  const parallel = options.parallel ?? 4;
  const latencyMs = options.latencyMs ?? 20;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const measureOnly = new Set(options.measureOnly ?? []);
  const report = options.report ?? (() => {});

  interface Write {
    id: string;
    changes: KeyChanges;
    version: number;
  }

  type Service = ReturnType<typeof createKeyward>;

  interface Round {
    org: string;
    id: string;
    token: string;
    /** Side A's instance (the one that created the key). */
    keyward: Service;
    /** Side B's instance (another one when there are peers). */
    other: Service;
    /** Every instance, each with its own store connection. */
    all: Service[];
    /** Instances with the rotated pepper ([B, A]), one per store, without a cache. */
    rotated: Service[];
    store: KeyStore;
    random: () => number;
    writes: Write[];
    violate: (invariant: RaceInvariant, detail: string) => void;
  }

  async function settle<T>(call: Promise<T>): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await call };
    } catch (error) {
      // Refusals docs/reference.md expects under concurrency; anything else fails the test.
      if (isKeywardError(error) && ['conflict', 'not_found'].includes((error as { code: string }).code)) {
        return { ok: false, code: (error as { code: string }).code };
      }
      throw error;
    }
  }

  /** Starts both calls after random offsets, so that each round interleaves them differently. */
  async function race<A, B>(
    round: Round,
    a: () => Promise<A>,
    b: () => Promise<B>,
  ): Promise<[Outcome<A>, Outcome<B>]> {
    const offset = () => sleep(round.random() * latencyMs * 2);
    return Promise.all([offset().then(() => settle(a())), offset().then(() => settle(b()))]);
  }

  async function stored(round: Round, id: string): Promise<StoredKey | null> {
    return (await round.store.findById(round.org, id)) ?? null;
  }

  async function checkRolled(round: Round): Promise<void> {
    const key = await stored(round, round.id);
    if (key?.rolledAt) {
      const graceEnd = key.rolledAt.getTime() + RACE_GRACE_SECONDS * 1000;
      if (key.expiresAt === null || key.expiresAt.getTime() > graceEnd) {
        round.violate('rolled-key-expiry', `expiresAt ${key.expiresAt?.toISOString() ?? 'null'}`);
      }
    }
    const successors = (await round.store.list(round.org)).filter((k) => k.id !== round.id);
    if (successors.length > 1 || (successors[0] && successors[0].id !== key?.replacedBy)) {
      round.violate('one-successor', `${successors.length} live successor(s)`);
    }
  }

  async function checkDeleted(round: Round, keyward: Service): Promise<void> {
    if (await stored(round, round.id)) round.violate('deleted-stays-deleted', 'findById still finds it');
    const result = await keyward.verify(round.token);
    if (result.valid) round.violate('deleted-stays-deleted', 'verify accepts it after the round');
  }

  /** Uses the key on every instance, so that each has a last use to flush. */
  async function useEverywhere(round: Round): Promise<void> {
    for (const keyward of round.all) {
      const result = await keyward.verify(round.token);
      if (!result.valid) throw new Error(`a fresh key was refused (${result.code})`);
    }
  }

  async function flushEverywhere(round: Round): Promise<void> {
    await Promise.all(round.all.map((k) => k.flushUsage()));
  }

  const scenarios: Array<[string, (round: Round) => Promise<void>]> = [
    [
      'roll ‖ PATCH {expiresAt: null}',
      async (round) => {
        const { keyward, other, org, id } = round;
        await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.updateKey(org, id, { expiresAt: null }),
        );
        await checkRolled(round);
      },
    ],
    [
      'roll ‖ disable',
      async (round) => {
        const { keyward, other, org, id } = round;
        const [, disabledCall] = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.updateKey(org, id, { disabled: true }),
        );
        const own = round.writes.filter((w) => w.id === id);
        const rolled = own.find((w) => w.changes.replacedBy !== undefined);
        const disabled = own.find((w) => w.changes.disabled === true);
        if (rolled && disabled && disabled.version <= rolled.version) {
          round.violate(
            'no-roll-of-disabled',
            `disable wrote version ${disabled.version}, roll ${rolled.version}`,
          );
        }
        if (disabledCall.ok && !(await stored(round, id))?.disabled) {
          round.violate('revocation-holds', 'the acknowledged disable is not in the store');
        }
        await checkRolled(round);
      },
    ],
    [
      'roll ‖ delete',
      async (round) => {
        const { keyward, other, org, id } = round;
        const [, deleted] = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.deleteKey(org, id),
        );
        if (!deleted.ok) throw new Error(`delete was refused (${deleted.code})`);
        await checkDeleted(round, other);
        // A successor may stay (the roll landed first) but only one, and only the one the old key names.
        const old = await round.store.findByHash(raceHash(round.token));
        const successors = (await round.store.list(org)).filter((k) => k.id !== id);
        if (successors.length > 1 || (successors[0] && successors[0].id !== old?.replacedBy)) {
          round.violate('one-successor', `${successors.length} live successor(s)`);
        }
      },
    ],
    [
      'roll ‖ roll',
      async (round) => {
        const { keyward, other, org, id } = round;
        const outcomes = await race(
          round,
          () => keyward.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
          () => other.rollKey(org, id, { gracePeriodSeconds: RACE_GRACE_SECONDS }),
        );
        const won = outcomes.filter((o) => o.ok).length;
        if (won !== 1) round.violate('one-roll-wins', `${won} rolls succeeded`);
        await checkRolled(round);
      },
    ],
    [
      'delete ‖ verify',
      async (round) => {
        const { keyward, org, id, token } = round;
        // Half the rounds start with the key cached, half with a verify in flight on an empty cache.
        if (round.random() < 0.5) await keyward.verify(token);
        let deletedAt: number | null = null;
        const late: Array<Promise<boolean>> = [];
        const deletion = sleep(round.random() * latencyMs * 2)
          .then(() => keyward.deleteKey(org, id))
          .then(() => {
            deletedAt = performance.now();
          });
        // Verifies every few ms until shortly after the delete returned; those started after it must refuse.
        while (deletedAt === null || performance.now() - deletedAt < latencyMs * 3) {
          const startedAfter = deletedAt !== null;
          const verified = keyward.verify(token).then((r) => r.valid);
          if (startedAfter) late.push(verified);
          else void verified.catch(() => {});
          await sleep(latencyMs / 4);
        }
        await deletion;
        const accepted = (await Promise.all(late)).filter(Boolean).length;
        if (accepted > 0)
          round.violate('deleted-stays-deleted', `${accepted} verify(s) accepted it after delete returned`);
        await checkDeleted(round, keyward);
      },
    ],
    [
      'disable ‖ usage flush',
      async (round) => {
        const { keyward, org, id } = round;
        await useEverywhere(round);
        const [disabled] = await race(
          round,
          () => keyward.updateKey(org, id, { disabled: true }),
          () => flushEverywhere(round),
        );
        if (!disabled.ok) throw new Error(`disable was refused (${disabled.code})`);
        await useEverywhere(round).catch(() => {});
        await flushEverywhere(round);
        if (!(await stored(round, id))?.disabled) {
          round.violate('revocation-holds', 'the key is enabled again after usage flushes');
        }
        if ((await keyward.verify(round.token)).valid) round.violate('revocation-holds', 'verify accepts it');
      },
    ],
    [
      'delete ‖ usage flush',
      async (round) => {
        const { keyward, org, id } = round;
        await useEverywhere(round);
        const [deleted] = await race(
          round,
          () => keyward.deleteKey(org, id),
          () => flushEverywhere(round),
        );
        if (!deleted.ok) throw new Error(`delete was refused (${deleted.code})`);
        await flushEverywhere(round);
        if (await stored(round, id)) round.violate('revocation-holds', 'the key is back after usage flushes');
        if (!(await round.store.findByHash(raceHash(round.token)))?.deletedAt) {
          round.violate('revocation-holds', 'the record lost its deletion');
        }
        await checkDeleted(round, keyward);
      },
    ],
    [
      'PATCH ‖ re-hash',
      async (round) => {
        const { other, org, id, token } = round;
        const rotated = round.rotated[0] as Service;
        const [used, patched] = await race(
          round,
          () => rotated.verify(token),
          () => other.updateKey(org, id, { name: 'Patched' }),
        );
        if (used.ok && !used.value.valid) throw new Error(`the first use was refused (${used.value.code})`);
        const key = await stored(round, id);
        if (patched.ok && key?.name !== 'Patched') {
          round.violate('no-lost-update', `the PATCH is lost (name ${key?.name})`);
        }
        const byOld = await round.store.findByHash(raceHash(token));
        const byNew = await round.store.findByHash(rotatedHash(token));
        if (Number(byOld?.id === id) + Number(byNew?.id === id) !== 1) {
          round.violate('no-lost-update', `found by old hash: ${!!byOld}, by new hash: ${!!byNew}`);
        }
        for (const service of round.rotated) {
          const result = await service.verify(token);
          if (!result.valid) round.violate('no-lost-update', `refused after the re-hash (${result.code})`);
        }
      },
    ],
    [
      'import ‖ import',
      async (round) => {
        const { keyward, other, org } = round;
        const legacy = `legacy_${Array.from({ length: 32 }, () => Math.floor(round.random() * 16).toString(16)).join('')}`;
        const input = { token: legacy, name: 'Imported', type: 'secret' as const };
        const outcomes = await race(
          round,
          () => keyward.importKey(org, input),
          () => other.importKey(org, input),
        );
        const won = outcomes.filter((o) => o.ok).length;
        const keys = (await round.store.list(org)).filter((k) => k.name === 'Imported');
        if (won !== 1 || keys.length !== 1) {
          round.violate('one-import', `${won} imports succeeded, ${keys.length} key(s) stored`);
        }
        if (!(await keyward.verify(legacy)).valid) round.violate('one-import', 'the imported key is refused');
      },
    ],
  ];

  describe(`Races through the service with ${latencyMs} ms store latency: ${name} (seed ${seed})`, () => {
    for (const [index, [scenario, run]] of scenarios.entries()) {
      it(
        `keeps docs/reference.md under ${scenario} (${rounds} rounds)`,
        async () => {
          const random = seededRandom(seed + index);
          const inner = await options.createStore();
          const peers = (await options.createPeers?.(inner)) ?? [];
          const stores = [inner, ...peers];
          const writes: Write[] = [];
          // The events of the writes that happened, by organization: exactly these must be in the log.
          const written = new Map<string, Set<string>>();
          const onWrite = (id: string, changes: KeyChanges, after: StoredKey, event?: KeyEvent) => {
            if (Object.keys(changes).length > 0) writes.push({ id, changes, version: after.version });
            if (event)
              written.set(
                after.organizationId,
                (written.get(after.organizationId) ?? new Set()).add(event.id),
              );
          };
          const delayedStores = stores.map((store) => withLatency(store, { ms: latencyMs, onWrite, random }));
          const service = (store: KeyStore, pepper: string | [string, ...string[]], cache: boolean) =>
            createKeyward({
              store,
              scopes: RACE_SCOPES,
              publicScopes: RACE_SCOPES,
              pepper,
              legacyTokens: { pattern: LEGACY_PATTERN },
              // Usage is flushed by the scenarios that race it, never by a timer.
              usage: { flushDelayMs: 600_000 },
              ...(cache ? {} : { cache: false }),
            });
          const all = delayedStores.map((store) => service(store, TEST_PEPPER, true));
          const rotated = delayedStores.map((store) => service(store, [ROTATED_PEPPER, TEST_PEPPER], false));
          const violations: Partial<Record<RaceInvariant, number>> = {};
          const examples: string[] = [];
          let turn = 0;
          try {
            const one = async () => {
              const org = `org_race_${Date.now()}_${++orgCounter}`;
              const keyward = all[turn % all.length] as Service;
              const other = all[(turn + 1) % all.length] as Service;
              turn++;
              const { key, token } = await keyward.createKey(org, {
                name: 'Raced',
                type: 'secret',
                expiresAt: new Date(Date.now() + 30 * 86_400_000),
              });
              const seen = new Set<RaceInvariant>();
              const round: Round = {
                org,
                id: key.id,
                token,
                keyward,
                other,
                all,
                rotated,
                store: inner,
                random,
                writes,
                violate: (invariant, detail) => {
                  if (seen.has(invariant)) return;
                  seen.add(invariant);
                  violations[invariant] = (violations[invariant] ?? 0) + 1;
                  if (examples.length < 5) examples.push(`${invariant}: ${detail}`);
                },
              };
              await run(round);
            };
            for (let done = 0; done < rounds; done += parallel) {
              await Promise.all(Array.from({ length: Math.min(parallel, rounds - done) }, one));
            }
            // One event per change and no other, on stores that keep events.
            if (inner.listEvents) {
              await inner.deliverEvents?.();
              for (const [org, ids] of written) {
                const listed = (await inner.listEvents(org, { limit: 1_000 }))
                  .filter((e) => e.type !== 'key.used_after_roll')
                  .map((e) => e.id);
                const same = listed.length === ids.size && listed.every((id) => ids.has(id));
                if (!same) {
                  violations['one-event-per-change'] = (violations['one-event-per-change'] ?? 0) + 1;
                  if (examples.length < 5)
                    examples.push(`one-event-per-change: ${ids.size} changes, ${listed.length} events`);
                }
              }
            }
            // Compare-and-set held if no two successful writes of one key produced the same version.
            const byKey = new Map<string, number[]>();
            for (const { id, version } of writes) byKey.set(id, [...(byKey.get(id) ?? []), version]);
            for (const versions of byKey.values()) {
              if (new Set(versions).size !== versions.length) {
                violations['serial-writes'] = (violations['serial-writes'] ?? 0) + 1;
                if (examples.length < 5) examples.push(`serial-writes: versions ${versions.join(',')}`);
              }
            }
          } finally {
            await Promise.all([...all, ...rotated].map((k) => k.close()));
            for (const peer of peers) await peer.close?.();
            await options.destroyStore?.(inner);
          }
          report(scenario, rounds, violations);
          const asserted = Object.fromEntries(
            Object.entries(violations).filter(([invariant]) => !measureOnly.has(invariant as RaceInvariant)),
          );
          expect(asserted, `${examples.join('; ')} (seed ${seed})`).toEqual({});
        },
        60_000 + rounds * 3_000,
      );
    }
  });
}
