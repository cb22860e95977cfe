import { createKeyward, createTokenHasher } from '@keyward/core';
import { makeStoredKey } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeyMove, MOVE_STALE_MS } from './key-move.js';
import { MongoKeyStore } from './mongo-store.js';
import type { KeyDocument } from './schema.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { ms, pollUntil, toRawDocument, uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect } = useConnections('key-move');
const [, mongoose] = MONGOOSE_MAJORS[1];
const NEW_HASH = createTokenHasher('key-move-test-pepper-b')('the token');

let connection: Connection;
beforeAll(async () => {
  connection = (await connect(mongoose)) as unknown as Connection;
});

/**
 * A store with one key, and the raw collection to leave a move half-done in: by a mover that died (its copy
 * older than MOVE_STALE_MS), or by one still at work (`inProgress`).
 */
async function setUp(fields: Parameters<typeof makeStoredKey>[0] = {}, { inProgress = false } = {}) {
  const collection = uniqueCollection();
  const store = new MongoKeyStore({ connection, collection });
  const org = uniqueOrganization();
  const key = makeStoredKey({ organizationId: org, ...fields });
  await store.insert(key);
  if (!connection.db) throw new Error('not open');
  const raw = connection.db.collection<KeyDocument>(collection);
  const startedAt = () => new Date(Date.now() - (inProgress ? 0 : MOVE_STALE_MS));
  const move = new KeyMove(raw as never, startedAt);
  const docs = async () => (await raw.find({}).toArray()).map((d) => ({ id: d._id, keyId: d.keyId }));
  return { store, org, key, raw, move, docs };
}

/** Step 2 as KeyMove does it: the old document is ended and points at the copy. */
async function endOld(raw: Awaited<ReturnType<typeof setUp>>['raw'], from: string, version: number) {
  await raw.updateOne(
    { _id: from },
    {
      $set: { movedTo: NEW_HASH, deletedAt: new Date(), keyId: 'moved:x:1', slot: 'moved:1' },
      $inc: { version: 1 },
    },
  );
  expect((await raw.findOne({ _id: from }))?.version).toBe(version + 1);
}

describe('a re-hash in progress, seen by other readers (MongoKeyStore)', () => {
  it('before the old document is ended: both hashes answer the key, nothing is written', async () => {
    const { store, org, key, raw, move } = await setUp({}, { inProgress: true });
    await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    const before = await raw.find({}).sort({ _id: 1 }).toArray();
    expect(await store.findByHash(NEW_HASH)).toEqual({ ...key, hash: NEW_HASH, version: 1 });
    expect(await store.findByHash(key.hash)).toEqual(key);
    expect(await store.findById(org, key.id)).toEqual(key);
    expect(await raw.find({}).sort({ _id: 1 }).toArray(), 'readers leave the move to its mover').toEqual(
      before,
    );
    // A change in between makes the copy stale: the new hash no longer answers, the old one has the change.
    await store.update(org, key.id, { name: 'Changed' });
    expect(await store.findByHash(NEW_HASH)).toBeNull();
    expect(await store.findByHash(key.hash)).toMatchObject({ name: 'Changed' });
    await store.close();
  });

  it('once the old document is ended: the new hash, the id and the slot answer the key as the mover will finish it', async () => {
    const { store, org, key, raw, move } = await setUp({}, { inProgress: true });
    await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await endOld(raw, key.hash, 0);
    const before = await raw.find({}).sort({ _id: 1 }).toArray();
    const finished = { ...key, hash: NEW_HASH, version: 1 };
    expect(await store.findByHash(NEW_HASH)).toEqual(finished);
    expect(await store.findById(org, key.id)).toEqual(finished);
    expect(await store.findBySlot(key.slot)).toEqual(finished);
    expect(await store.findByHash(key.hash)).toBeNull();
    expect(await raw.find({}).sort({ _id: 1 }).toArray(), 'readers leave the move to its mover').toEqual(
      before,
    );
    // The mover finishes it.
    const pending = await raw.findOne({ _id: NEW_HASH });
    expect(await move.finish(pending as KeyDocument)).toMatchObject({ keyId: key.id, _id: NEW_HASH });
    expect(await store.findByHash(NEW_HASH)).toEqual(finished);
    await store.close();
  });

  it('finishes the move when a write that read the old document before step 2 wrote it back after', async () => {
    const { store, org, key, raw, move } = await setUp({}, { inProgress: true });
    const pending = await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    const stale = await raw.findOne({ _id: key.hash });
    await endOld(raw, key.hash, 0);
    // What FerretDB's non-atomic update does: the whole document as it was read, written back.
    await raw.replaceOne({ _id: key.hash }, stale as KeyDocument);
    expect(await move.finish(pending as KeyDocument)).toMatchObject({ keyId: key.id, _id: NEW_HASH });
    expect(await raw.find({}).toArray()).toHaveLength(1);
    expect(await store.findById(org, key.id)).toEqual({ ...key, hash: NEW_HASH, version: 1 });
    await store.close();
  });

  it('carries events still in the outbox of the old document to the copy', async () => {
    const { store, key, raw, move } = await setUp({}, { inProgress: true });
    await raw.updateOne({ _id: key.hash }, { $set: { 'outbox.evt_1': { _id: 'evt_1' } } } as never);
    const pending = await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await move.finish(pending as KeyDocument);
    expect(await raw.findOne({ _id: NEW_HASH })).toMatchObject({ outbox: { evt_1: { _id: 'evt_1' } } });
    await store.close();
  });
});

describe('a re-hash interrupted by a crash (MongoKeyStore)', () => {
  it('after the copy was inserted: the next read by the new hash finishes the move', async () => {
    const { store, org, key, move, docs } = await setUp();
    expect(await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH)).not.toBeNull();
    // Until then the old document is the key: found by id, listed once.
    expect(await store.findById(org, key.id)).toMatchObject({ hash: key.hash });
    expect(await store.list(org)).toHaveLength(1);
    expect(await store.findByHash(NEW_HASH)).toEqual({ ...key, hash: NEW_HASH, version: 1 });
    expect(await store.findByHash(key.hash)).toBeNull();
    expect(await docs()).toEqual([{ id: NEW_HASH, keyId: key.id }]);
    await store.close();
  });

  it('after the copy was inserted and the key then changed: the stale copy is dropped, the change kept', async () => {
    const { store, org, key, move, docs } = await setUp();
    await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await store.update(org, key.id, { disabled: true });
    expect(await store.findByHash(NEW_HASH)).toBeNull();
    expect(await store.findById(org, key.id)).toMatchObject({ hash: key.hash, disabled: true });
    expect(await docs()).toEqual([{ id: key.hash, keyId: key.id }]);
    await store.close();
  });

  it('after the copy was inserted and the key then deleted: no hash finds a working key', async () => {
    const { store, org, key, move } = await setUp();
    await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await store.update(org, key.id, { deletedAt: new Date() });
    expect(await store.findByHash(NEW_HASH)).toBeNull();
    expect((await store.findByHash(key.hash))?.deletedAt).not.toBeNull();
    expect(await store.findById(org, key.id)).toBeNull();
    expect(await store.list(org)).toEqual([]);
    await store.close();
  });

  it('after the old document was ended: a read by id, by slot or by the new hash finishes it', async () => {
    for (const read of ['id', 'slot', 'hash'] as const) {
      const { store, org, key, raw, move, docs } = await setUp({ slot: `default:${uniqueOrganization()}` });
      await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
      await endOld(raw, key.hash, 0);
      const found =
        read === 'id'
          ? await store.findById(org, key.id)
          : read === 'slot'
            ? await store.findBySlot(key.slot)
            : await store.findByHash(NEW_HASH);
      expect(found, `read by ${read}`).toEqual({ ...key, hash: NEW_HASH, version: 1 });
      expect(await docs()).toEqual([{ id: NEW_HASH, keyId: key.id }]);
      expect(await store.list(org)).toHaveLength(1);
      await store.close();
    }
  });

  it('after the copy was finished: the old hash finds nothing and is cleared away', async () => {
    const { store, org, key, raw, move, docs } = await setUp();
    const pending = await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await endOld(raw, key.hash, 0);
    await raw.updateOne(
      { _id: NEW_HASH },
      { $set: { keyId: key.id, slot: key.slot, deletedAt: null, version: 1 }, $unset: { moving: '' } },
    );
    expect(pending).not.toBeNull();
    expect(await store.findByHash(key.hash)).toBeNull();
    expect(await docs()).toEqual([{ id: NEW_HASH, keyId: key.id }]);
    expect(await store.findById(org, key.id)).toMatchObject({ hash: NEW_HASH });
    await store.close();
  });

  it('keeps a default key found by its slot while a new default could take the slot: never two, never none', async () => {
    const { store, org, key, raw, move } = await setUp({ slot: 'default:x', isDefault: true });
    await move.begin(toRawDocument(key) as KeyDocument, NEW_HASH);
    await endOld(raw, key.hash, 0);
    // A key inserted into the freed slot in the window keeps it; the moved key keeps working under its own.
    const intruder = makeStoredKey({ organizationId: org, slot: 'default:x' });
    await store.insert(intruder);
    expect(await store.findByHash(NEW_HASH)).toMatchObject({ id: key.id, slot: `rehashed:${key.id}` });
    expect((await store.list(org)).map((k) => k.id).sort()).toEqual([key.id, intruder.id].sort());
    await store.close();
  });

  it('announces a re-hash in the change log, so other instances drop the key from their caches', async () => {
    const collection = uniqueCollection();
    const org = uniqueOrganization();
    const old = createKeyward({
      store: new MongoKeyStore({ connection, collection }),
      pepper: 'key-move-test-pepper-a',
      scopes: ['a:read'],
    });
    const { key, token } = await old.createKey(org, { name: 'K', type: 'secret' });
    await old.close();
    const store = new MongoKeyStore({ connection, collection });
    const before = await connection.db?.collection(`${collection}_changes`).countDocuments({ keyId: key.id });
    const rotating = createKeyward({
      store,
      pepper: ['key-move-test-pepper-b', 'key-move-test-pepper-a'],
      scopes: ['a:read'],
    });
    expect(await rotating.verify(token)).toMatchObject({ valid: true });
    const after = await connection.db?.collection(`${collection}_changes`).countDocuments({ keyId: key.id });
    expect((after ?? 0) - (before ?? 0)).toBe(2);
    await rotating.close();
    await store.close();
  });

  it('across instances: 6 first uses of a key of an old pepper at once all verify, and one of them moves it', async () => {
    const collection = uniqueCollection();
    const org = uniqueOrganization();
    const [A, B] = ['key-move-test-pepper-a', 'key-move-test-pepper-b'];
    const old = createKeyward({
      store: new MongoKeyStore({ connection, collection }),
      pepper: A,
      scopes: ['a:read'],
    });
    const { key, token } = await old.createKey(org, { name: 'K', type: 'secret' });
    await old.close();
    const stores = Array.from({ length: 6 }, () => new MongoKeyStore({ connection, collection }));
    const instances = stores.map((store) =>
      createKeyward({ store, pepper: [B, A], scopes: ['a:read'], cache: false }),
    );
    try {
      const results = await Promise.all(instances.map((k) => k.verify(token)));
      for (const result of results) expect(result).toMatchObject({ valid: true, key: { id: key.id } });
      const raw = connection.db?.collection<KeyDocument>(collection);
      expect(await raw?.find({}).toArray()).toMatchObject([
        { _id: createTokenHasher(B)(token), keyId: key.id, deletedAt: null },
      ]);
    } finally {
      await Promise.all(instances.map((k) => k.close()));
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('across instances: one still on [A] alone that cached the key drops it within the bound once another moved it to B', async () => {
    const collection = uniqueCollection();
    const org = uniqueOrganization();
    const A = 'key-move-test-pepper-a';
    const B = 'key-move-test-pepper-b';
    const storeA = new MongoKeyStore({ connection, collection });
    const storeB = new MongoKeyStore({ connection, collection });
    const onA = createKeyward({ store: storeA, pepper: A, scopes: ['a:read'] });
    const onBA = createKeyward({ store: storeB, pepper: [B, A], scopes: ['a:read'] });
    try {
      await Promise.all([storeA.feedReady(), storeB.feedReady()]);
      const { key, token } = await onA.createKey(org, { name: 'K', type: 'secret' });
      expect(await onA.verify(token)).toMatchObject({ valid: true }); // cached on [A]
      expect(await onBA.verify(token)).toMatchObject({ valid: true }); // moved to B
      expect((await storeB.findById(org, key.id))?.hash).toBe(createTokenHasher(B)(token));
      // Documented: the [A]-only instance no longer finds the key (fails closed) once it hears of the move.
      const elapsed = await pollUntil(async () => !(await onA.verify(token)).valid, {
        timeoutMs: 3_000,
        intervalMs: 20,
      });
      expect(elapsed, '[A] refused the moved key within 3 s').not.toBeNull();
      console.log(`[key-move] the [A]-only instance dropped the moved key after ${ms(elapsed ?? 0)} ms`);
      expect(await onA.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
      expect(await onBA.verify(token)).toMatchObject({ valid: true });
    } finally {
      await onA.close();
      await onBA.close();
      await storeA.close();
      await storeB.close();
    }
  });
});
