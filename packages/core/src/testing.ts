import { describe, expect, it } from 'vitest';
import { DuplicateKeyError } from './errors.js';
import { createTokenHasher } from './hash.js';
import { newKeyId } from './ids.js';
import { generateToken, redactToken } from './key-format.js';
import { createKeyward } from './keyward.js';
import { MemoryKeyStore } from './memory-store.js';
import type { KeyStore } from './store.js';
import type { KeyType, StoredKey } from './types.js';

export interface ConformanceOptions {
  /** A fresh, empty store for one test. */
  createStore: () => Promise<KeyStore> | KeyStore;
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
  const store: KeyStore = {
    insert: (k) => inner.insert(k),
    findByHash: async (h) => {
      state.lookups++;
      if (state.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:27017');
      return inner.findByHash(h);
    },
    findById: (o, i) => inner.findById(o, i),
    findBySlot: (s) => inner.findBySlot(s),
    list: (o) => inner.list(o),
    update: (o, i, c, x) => inner.update(o, i, c, x),
    subscribe: (listener) => inner.subscribe(listener),
  };
  return { store, state };
}

/**
 * The store conformance suite: every `KeyStore` must pass it. Call it inside a Vitest test file.
 *
 * @example
 * runKeyStoreConformance('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
 */
export function runKeyStoreConformance(name: string, options: ConformanceOptions): void {
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

    it('records last use only forward in time', () =>
      withStore(async (store, org) => {
        if (!store.recordUsage) return;
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-02T00:00:00Z') }]);
        await store.recordUsage([{ id: key.id, hash: key.hash, at: new Date('2030-01-01T00:00:00Z') }]);
        expect((await store.findById(org, key.id))?.lastUsedAt).toEqual(new Date('2030-01-02T00:00:00Z'));
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
  });
}
