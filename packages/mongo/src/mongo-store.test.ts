import { createServer } from 'node:net';
import { createKeyward, KeyStoreUnavailableError } from '@keyward/core';
import { createTokenHasher } from '@keyward/core/store';
import { makeStoredKey, TEST_PEPPER } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MongoKeyStore, type MongoKeyStoreOptions } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { everythingShownBy, toRawDocument, uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect, db } = useConnections('mongo-store');

function raw(connection: Connection, collection: string) {
  if (!connection.db) throw new Error('the connection is not open');
  return connection.db.collection(collection);
}

describe('MongoKeyStore options', () => {
  // An unopened connection is enough: the constructor never touches the network.
  const [, mongoose] = MONGOOSE_MAJORS[1];
  const connection = mongoose.createConnection() as unknown as Connection;
  afterAll(() => connection.close());
  const store = (options: Partial<MongoKeyStoreOptions>) => () =>
    new MongoKeyStore({ connection, collection: uniqueCollection(), ...options } as MongoKeyStoreOptions);

  it('throws a TypeError when the connection is missing or is not a mongoose Connection', () => {
    expect(() => new MongoKeyStore(undefined as never)).toThrow(TypeError);
    expect(() => new MongoKeyStore({} as never)).toThrow(TypeError);
    expect(() => new MongoKeyStore({ connection: {} as never })).toThrow(TypeError);
    expect(() => new MongoKeyStore({ connection: 'mongodb://127.0.0.1' as never })).toThrow(TypeError);
    // The global mongoose object is a common mistake: the store must refuse it, not register a global model.
    expect(() => new MongoKeyStore({ connection: mongoose as never })).toThrow(TypeError);
  });

  it.each([
    ['an empty name', ''],
    ['a name with a space', 'api keys'],
    ['a name with a dollar sign', 'keys$'],
    ['a name over 100 characters', 'k'.repeat(101)],
    ['a reserved system collection', 'system.keys'],
    ['a name starting with a dot', '.keys'],
    ['a number', 42],
  ])('throws a TypeError for a collection that is %s', (_label, collection) => {
    expect(store({ collection: collection as string })).toThrow(TypeError);
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['fractional', 1.5],
    ['a string', '1000'],
    ['not a number', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
    // Node fires a timer of more than 2^31-1 ms after 1 ms: every call would time out at once.
    ['too large for a timer', 2 ** 31],
  ])('throws a TypeError for timeoutMs and pollIntervalMs that are %s', (_label, value) => {
    expect(store({ timeoutMs: value as number })).toThrow(TypeError);
    expect(store({ pollIntervalMs: value as number })).toThrow(TypeError);
  });

  it('throws a TypeError for the removed changeFeed option and a bad leaseMs', () => {
    expect(store({ changeFeed: 'change-stream' } as never)).toThrow(TypeError);
    expect(store({ changeFeed: 'poll' } as never)).toThrow(TypeError);
    expect(store({ leaseMs: 0 })).toThrow(TypeError);
    expect(store({ leaseMs: 1.5 })).toThrow(TypeError);
  });

  it('throws a TypeError naming an unknown option, such as a misspelt one', () => {
    expect(store({ timeout: 1000 } as never)).toThrow(/unknown option "timeout"/);
    expect(store({ pollInterval: 100 } as never)).toThrow(/unknown option "pollInterval"/);
  });

  it('accepts the documented values without changing the caller options object', () => {
    const options = Object.freeze({
      connection,
      collection: uniqueCollection(),
      timeoutMs: 2_000,
      leaseMs: 3_000,
      pollIntervalMs: 100,
    });
    expect(() => new MongoKeyStore(options)).not.toThrow();
    expect(() => new MongoKeyStore({ connection, collection: 'tenant.keys-v2' })).not.toThrow();
  });
});

describe.each(MONGOOSE_MAJORS)('MongoKeyStore on a real server with %s', (_label, mongoose) => {
  let connection: Connection;
  beforeAll(async () => {
    connection = (await connect(mongoose)) as unknown as Connection;
  });

  /** A store on a collection of its own, closed after `body` however it ends. */
  async function withStore(
    body: (store: MongoKeyStore, collection: string) => Promise<void>,
    options: Partial<MongoKeyStoreOptions> = {},
  ): Promise<void> {
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection, ...options });
    try {
      await body(store, collection);
    } finally {
      await store.close();
    }
  }

  /** A key of an organization of its own, inserted into `store`. */
  async function insertedKey(store: MongoKeyStore) {
    const org = uniqueOrganization();
    const key = makeStoredKey({ organizationId: org });
    await store.insert(key);
    return { org, key };
  }

  it('stores the key id as _id and the hash in a pointer, and never writes a secret token', async () => {
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection });
    const keyward = createKeyward({ store, pepper: TEST_PEPPER, scopes: ['a:read'] });
    try {
      const org = uniqueOrganization();
      const { key, token } = await keyward.createKey(org, { name: 'Server', type: 'secret' });
      const hash = createTokenHasher(TEST_PEPPER)(token);
      const docs = await raw(connection, collection).find({}).toArray();
      expect(docs).toHaveLength(1);
      const [doc] = docs;
      expect(doc?._id).toBe(key.id);
      expect(doc?.hash).toBe(hash);
      for (const field of ['id', 'keyId', 'lastUsedAt', 'outbox']) expect(doc).not.toHaveProperty(field);
      expect(doc).toMatchObject({ organizationId: org, name: 'Server', type: 'secret', token: null });
      expect(JSON.stringify(doc)).not.toContain(token);
      expect(await raw(connection, `${collection}_hashes`).find({}).toArray()).toEqual([
        { _id: hash, keyId: key.id },
      ]);
      // The write's lease is gone once it returned.
      expect(await raw(connection, `${collection}_locks`).countDocuments()).toBe(0);

      // ...and reads map it back: `id` and `hash`, no `_id`.
      const stored = await store.findById(org, key.id);
      expect(stored).toMatchObject({ id: key.id, hash });
      const byHash = await store.findByHash(hash);
      expect(byHash).toEqual(stored);
      for (const found of [stored, byHash]) {
        expect(found).not.toHaveProperty('_id');
        expect(found).not.toHaveProperty('op');
      }
      const [listed] = await store.list(org);
      expect(listed).toMatchObject({ id: key.id, hash });
      expect(listed).not.toHaveProperty('_id');
      const updated = await store.update(org, key.id, { name: 'Renamed' });
      expect(updated).toMatchObject({ id: key.id, hash, name: 'Renamed' });
      expect(updated).not.toHaveProperty('_id');
    } finally {
      await keyward.close();
      await store.close();
    }
  });

  it('keeps last use in a document of its own, never in the key document, and shows it on reads', async () => {
    await withStore(async (store, collection) => {
      const { org, key } = await insertedKey(store);
      const before = await raw(connection, collection).findOne({ _id: key.id as never });
      const at = new Date('2030-01-02T03:04:05.000Z');
      await store.recordUsage([{ id: key.id, hash: key.hash, at }]);
      expect(await raw(connection, collection).findOne({ _id: key.id as never })).toEqual(before);
      expect(await raw(connection, `${collection}_usage`).find({}).toArray()).toEqual([{ _id: key.id, at }]);
      expect((await store.findById(org, key.id))?.lastUsedAt).toEqual(at);
      expect((await store.list(org))[0]?.lastUsedAt).toEqual(at);
    });
  });

  it('answers nothing for a hash pointer whose key has another hash', async () => {
    await withStore(async (store, collection) => {
      const { key } = await insertedKey(store);
      const stray = createTokenHasher(TEST_PEPPER)('a token no key has');
      await raw(connection, `${collection}_hashes`).insertOne({ _id: stray, keyId: key.id } as never);
      expect(await store.findByHash(stray)).toBeNull();
      expect(await store.findByHash(key.hash)).toMatchObject({ id: key.id });
    });
  });

  it('announces each update in the change log before and after the write, and no insert, refused update or recordUsage', async () => {
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection });
    const keyward = createKeyward({ store, pepper: TEST_PEPPER, scopes: ['a:read'] });
    try {
      const org = uniqueOrganization();
      const changes = raw(connection, `${collection}_changes`);
      const { key, token } = await keyward.createKey(org, { name: 'Server', type: 'secret' });
      const hash = createTokenHasher(TEST_PEPPER)(token);
      expect(await changes.countDocuments()).toBe(0);
      await store.recordUsage([{ id: key.id, hash, at: new Date() }]);
      expect(await changes.countDocuments()).toBe(0);

      const before = Date.now();
      await keyward.updateKey(org, key.id, { name: 'Renamed' });
      const entries = await changes.find({}).toArray();
      expect(entries.map((e) => e.keyId)).toEqual([key.id, key.id]);
      for (const entry of entries) {
        expect(Object.keys(entry).sort()).toEqual(['_id', 'at', 'keyId']);
        // A client-generated ObjectId, and the writer's clock.
        expect(entry._id).toBeInstanceOf(mongoose.Types.ObjectId);
        const at = entry.at;
        if (!(at instanceof Date)) throw new Error('the change entry has no date');
        expect(at.getTime()).toBeGreaterThanOrEqual(before);
        expect(at.getTime()).toBeLessThanOrEqual(Date.now());
      }

      // A deletion is an update too (two more entries); an update that matches nothing writes nothing.
      await keyward.deleteKey(org, key.id);
      expect(await changes.countDocuments()).toBe(4);
      expect(await store.update(org, key.id, { name: 'Gone' })).toBeNull();
      expect(await changes.countDocuments()).toBe(4);
      const all = await changes.find({}).toArray();
      expect(new Set(all.map((e) => String(e._id))).size).toBe(4);
      expect(await raw(connection, collection).countDocuments()).toBe(1);
    } finally {
      await keyward.close();
      await store.close();
    }
  });

  it('reads a key written before versions existed as version 0 and updates it on that version', async () => {
    await withStore(async (store, collection) => {
      await store.ensureIndexes();
      const org = uniqueOrganization();
      const key = makeStoredKey({ organizationId: org });
      const { version: _dropped, ...legacy } = toRawDocument(key);
      await raw(connection, collection).insertOne(legacy as never);
      expect(await store.findById(org, key.id)).toMatchObject({ version: 0 });
      expect(await store.update(org, key.id, { name: 'Too new' }, { version: 1 })).toBeNull();
      expect(await store.update(org, key.id, { name: 'Upgraded' }, { version: 0 })).toMatchObject({
        name: 'Upgraded',
        version: 1,
      });
      expect(await store.update(org, key.id, { name: 'Again' }, { version: 0 })).toBeNull();
      expect(await raw(connection, collection).findOne({ _id: key.id as never })).toMatchObject({
        version: 1,
      });
    });
  });

  it('reads a key written before policies existed with no limits, origins or addresses and its own lineage', async () => {
    await withStore(async (store, collection) => {
      await store.ensureIndexes();
      const org = uniqueOrganization();
      const key = makeStoredKey({ organizationId: org });
      const { limits: _l, allowedOrigins: _o, allowedIps: _i, lineageId: _n, ...legacy } = toRawDocument(key);
      await raw(connection, collection).insertOne(legacy as never);
      await raw(connection, `${collection}_hashes`).insertOne({ _id: key.hash, keyId: key.id } as never);
      expect(await store.findByHash(key.hash)).toEqual(key);
      expect(await store.findById(org, key.id)).toMatchObject({
        limits: [],
        allowedOrigins: [],
        allowedIps: [],
        lineageId: key.id,
      });
      expect(
        await store.update(org, key.id, { limits: [{ limit: 3, windowSeconds: 10 }], allowedIps: ['::1'] }),
      ).toMatchObject({ limits: [{ limit: 3, windowSeconds: 10 }], allowedIps: ['::1'], lineageId: key.id });
    });
  });

  describe('when the change log refuses entries', () => {
    /**
     * A real server-side fault, no mock: a unique index on the change log's keyId admits one entry per key,
     * so the next entry for that key fails with a duplicate-key error from the server.
     */
    async function oneEntryPerKey(collection: string, store: MongoKeyStore): Promise<void> {
      await store.ensureIndexes();
      await raw(connection, `${collection}_changes`).createIndex(
        { keyId: 1 },
        { unique: true, name: 'test_one_entry_per_key' },
      );
    }

    it('leaves the key untouched and fails with KeyStoreUnavailableError when the entry before the write fails', async () => {
      await withStore(async (store, collection) => {
        await oneEntryPerKey(collection, store);
        const { org, key } = await insertedKey(store);
        // Taken in advance: the entry announced before the write collides.
        await raw(connection, `${collection}_changes`).insertOne({ keyId: key.id, at: new Date() });
        const error = await store.update(org, key.id, { deletedAt: new Date() }).catch((e: unknown) => e);
        // Not a DuplicateKeyError: the key itself is not a duplicate, the store cannot write.
        expect(error).toBeInstanceOf(KeyStoreUnavailableError);
        expect(await store.findById(org, key.id)).toMatchObject({ deletedAt: null, version: 0 });
      });
    });

    it('succeeds when only the entry after the write fails: the entry before it announced the change', async () => {
      await withStore(async (store, collection) => {
        await oneEntryPerKey(collection, store);
        const { org, key } = await insertedKey(store);
        expect(await store.update(org, key.id, { name: 'Renamed' }, { version: 0 })).toMatchObject({
          name: 'Renamed',
          version: 1,
        });
        const entries = await raw(connection, `${collection}_changes`).find({}).toArray();
        expect(entries.map((e) => e.keyId)).toEqual([key.id]);
      });
    });
  });

  it('creates the indexes of the keys and of the change log', async () => {
    await withStore(async (store, collection) => {
      await store.ensureIndexes();
      const indexes = await raw(connection, collection).indexes();
      const byName = Object.fromEntries(indexes.map((index) => [index.name, index]));
      expect(Object.keys(byName).sort()).toEqual(
        ['_id_', 'expires_at', 'organization_newest', 'slot_unique'].sort(),
      );
      expect(byName.expires_at).toMatchObject({ key: { expiresAt: 1 } });
      expect(byName.slot_unique).toMatchObject({ key: { slot: 1 }, unique: true });
      expect(byName.organization_newest).toMatchObject({
        key: { organizationId: 1, createdAt: -1, _id: -1 },
      });
      expect(byName.organization_newest?.unique).toBeFalsy();
      const changeIndexes = await raw(connection, `${collection}_changes`).indexes();
      expect(changeIndexes.map((index) => index.name).sort()).toEqual(['_id_', 'at']);
      expect(changeIndexes.find((index) => index.name === 'at')).toMatchObject({ key: { at: 1 } });
      expect(changeIndexes.find((index) => index.name === 'at')?.unique).toBeFalsy();
      // The event log: newest first per organization and per key, and expireAt (plain on FerretDB).
      const eventIndexes = await raw(connection, `${collection}_events`).indexes();
      expect(eventIndexes.map((index) => index.name).sort()).toEqual(
        ['_id_', 'expire_at', 'key_newest', 'organization_newest'].sort(),
      );
      // Nothing FerretDB 1.24 lacks: no TTL, partial or sparse index.
      for (const index of [...indexes, ...changeIndexes, ...eventIndexes]) {
        expect(index).not.toHaveProperty('expireAfterSeconds');
        expect(index).not.toHaveProperty('partialFilterExpression');
        expect(index.sparse).toBeFalsy();
      }
      // A second call reuses the first one's work.
      await expect(store.ensureIndexes()).resolves.toBeUndefined();
    });
  });

  it('provisions exactly one default key on the server when 20 calls race', async () => {
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection, ...PATIENT_STORE });
    const keyward = createKeyward({
      store,
      pepper: TEST_PEPPER,
      scopes: ['a:read', 'a:write'],
      publicScopes: ['a:read'],
    });
    try {
      const org = uniqueOrganization();
      const results = await Promise.all(Array.from({ length: 20 }, () => keyward.provisionOrganization(org)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const docs = await raw(connection, collection).find({ organizationId: org }).toArray();
      expect(docs).toHaveLength(1);
      expect(docs[0]).toMatchObject({
        slot: `default:${org}`,
        isDefault: true,
        type: 'public',
        scopes: ['a:read'],
      });
      expect(new Set(results.map((r) => r.key?.id))).toEqual(new Set([docs[0]?._id]));
    } finally {
      await keyward.close();
      await store.close();
    }
  });

  it('registers its model on the injected connection and never on the global mongoose', async () => {
    await withStore(async (store, collection) => {
      await store.insert(makeStoredKey());
      expect(connection.modelNames()).toContain(`Keyward:${collection}`);
      expect(mongoose.modelNames()).toEqual([]);
      expect(Object.keys(mongoose.models)).toEqual([]);
      // ...and it never connected the global mongoose either.
      expect(mongoose.connection.readyState).toBe(0);
    });
  });

  it('lets two stores on one connection and collection share one model', async () => {
    const collection = uniqueCollection();
    const first = new MongoKeyStore({ connection, collection });
    const model = connection.models[`Keyward:${collection}`];
    let second: MongoKeyStore | undefined;
    try {
      expect(() => {
        second = new MongoKeyStore({ connection, collection, timeoutMs: 2_000 });
      }).not.toThrow();
      expect(connection.models[`Keyward:${collection}`]).toBe(model);
      expect(connection.modelNames().filter((name) => name === `Keyward:${collection}`)).toHaveLength(1);
      const key = makeStoredKey();
      await first.insert(key);
      expect((await second?.findByHash(key.hash))?.id).toBe(key.id);
      await expect(Promise.all([first.ensureIndexes(), second?.ensureIndexes()])).resolves.toBeDefined();
    } finally {
      await first.close();
      await second?.close();
    }
  });

  it('records the last use of 250 keys in one call while other calls keep answering', async () => {
    await withStore(
      async (store, collection) => {
        await store.ensureIndexes();
        const org = uniqueOrganization();
        const keys = Array.from({ length: 250 }, () => makeStoredKey({ organizationId: org }));
        await raw(connection, collection).insertMany(keys.map((k) => toRawDocument(k)) as never[]);
        await raw(connection, `${collection}_hashes`).insertMany(
          keys.map((k) => ({ _id: k.hash, keyId: k.id })) as never[],
        );
        const at = new Date('2030-01-01T00:00:00.000Z');
        const older = new Date('2029-01-01T00:00:00.000Z');
        const [, found] = await Promise.all([
          store.recordUsage(keys.map((k) => ({ id: k.id, hash: k.hash, at }))),
          store.findByHash(keys[0]?.hash ?? ''),
        ]);
        expect(found?.id).toBe(keys[0]?.id);
        // Only forward: an older time changes nothing.
        await store.recordUsage(keys.slice(0, 30).map((k) => ({ id: k.id, hash: k.hash, at: older })));
        expect(await raw(connection, `${collection}_usage`).countDocuments({ at })).toBe(250);
      },
      { timeoutMs: 10_000 },
    );
  });

  it('refuses a duplicate hash with a DuplicateKeyError that does not show the hash or the token', async () => {
    await withStore(async (store) => {
      const key = makeStoredKey({ type: 'public' });
      await store.insert(key);
      const error = await store.insert(makeStoredKey({ hash: key.hash, token: key.token })).catch((e) => e);
      expect(error).toMatchObject({ name: 'DuplicateKeyError' });
      // MongoDB names the index in its E11000 error; FerretDB 1.24 does not, so the field is unknown there.
      if (!db.isFerretDB) expect(error).toMatchObject({ field: 'hash' });
      const shown = everythingShownBy(error);
      expect(shown).not.toContain(key.hash);
      expect(shown).not.toContain(key.token);
      // A duplicate id and a duplicate slot are told apart from a duplicate hash.
      const sameId = await store.insert(makeStoredKey({ id: key.id, slot: 'other' })).catch((e) => e);
      expect(sameId).toMatchObject({ name: 'DuplicateKeyError' });
      if (!db.isFerretDB) expect(sameId).toMatchObject({ field: 'id' });
      const sameSlot = await store.insert(makeStoredKey({ slot: key.slot })).catch((e) => e);
      expect(sameSlot).toMatchObject({ name: 'DuplicateKeyError' });
      if (!db.isFerretDB) expect(sameSlot).toMatchObject({ field: 'slot' });
    });
  });

  it('puts no token or hash in any error when the server cannot be reached', async () => {
    const port = await unusedPort();
    const dead = mongoose.createConnection(`mongodb://127.0.0.1:${port}/keyward`, {
      serverSelectionTimeoutMS: 300,
    }) as unknown as Connection;
    await dead.asPromise().catch(() => {});
    const store = new MongoKeyStore({ connection: dead, collection: uniqueCollection(), timeoutMs: 1_000 });
    const keyward = createKeyward({
      store,
      pepper: TEST_PEPPER,
      scopes: ['a:read'],
      publicScopes: ['a:read'],
    });
    const inserted = vi.spyOn(store, 'insert');
    try {
      const org = uniqueOrganization();
      const key = makeStoredKey({ type: 'public', organizationId: org, slot: `default:${org}` });
      const errors: unknown[] = [];
      const collect = (promise: Promise<unknown>) =>
        promise.then(
          () => errors.push('resolved'),
          (e) => errors.push(e),
        );
      await collect(store.insert(key));
      await collect(store.findByHash(key.hash));
      await collect(store.findBySlot(key.slot));
      await collect(store.findById(org, key.id));
      await collect(store.list(org));
      await collect(store.update(org, key.id, { name: 'Renamed' }));
      await collect(store.recordUsage([{ id: key.id, hash: key.hash, at: new Date() }]));
      await collect(store.rehash(key, createTokenHasher('another-pepper-for-this-test')(key.token ?? '')));
      await collect(store.insertMany([key]));
      await collect(
        keyward.importKey(org, { token: 'legacy_0123456789abcdef', name: 'Old', type: 'secret' }),
      );
      await collect(keyward.createKey(org, { name: 'Browser', type: 'public' }));
      await collect(keyward.createKey(org, { name: 'Server', type: 'secret' }));
      await collect(keyward.provisionOrganization(org));

      expect(errors).toHaveLength(13);
      const secrets: string[] = [
        key.hash,
        key.token ?? '',
        createTokenHasher('another-pepper-for-this-test')(key.token ?? ''),
        'legacy_0123456789abcdef',
        'another-pepper-for-this-test',
        TEST_PEPPER,
      ];
      for (const [call] of inserted.mock.calls) secrets.push(call.hash, ...(call.token ? [call.token] : []));
      expect(secrets.length).toBeGreaterThan(5);
      for (const error of errors) {
        expect(error).toBeInstanceOf(KeyStoreUnavailableError);
        const shown = everythingShownBy(error);
        for (const secret of secrets) expect(shown).not.toContain(secret);
      }

      // verify() answers with data, not an exception, and the hash is not in it either.
      const token = key.token ?? '';
      const result = await keyward.verify(token);
      expect(result).toEqual({ valid: false, code: 'key_store_unavailable' });
      expect(JSON.stringify(result)).not.toContain(createTokenHasher(TEST_PEPPER)(token));
    } finally {
      await keyward.close();
      await store.close();
      await dead.close();
    }
  });
});

/** A TCP port nothing listens on (it was free a moment ago). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
