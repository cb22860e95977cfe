import type { StoredKey } from '@keyward/core/store';
import { makeStoredKey } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { ms, percentile, SLOW, seededRandomFor, toRawDocument, uniqueCollection } from './test-helpers.js';

const { connect, db } = useConnections('scale');
const [, mongoose] = MONGOOSE_MAJORS[1];

/** Inserts `count` keys the way the store writes them, in unordered batches; resolves with a sample to look up. */
async function insertKeys(connection: Connection, collection: string, count: number, sample: number) {
  if (!connection.db) throw new Error('the connection is not open');
  const raw = connection.db.collection(collection);
  const hashes = connection.db.collection(`${collection}_hashes`);
  const picked: StoredKey[] = [];
  const every = Math.floor(count / sample);
  const started = performance.now();
  for (let from = 0; from < count; from += 10_000) {
    const keys = Array.from({ length: Math.min(10_000, count - from) }, (_, i) => {
      const key = makeStoredKey({ organizationId: `org_${(from + i) % 1_000}` });
      if ((from + i) % every === 0 && picked.length < sample) picked.push(key);
      return key;
    });
    await raw.insertMany(keys.map(toRawDocument) as never[], { ordered: false });
    await hashes.insertMany(keys.map((k) => ({ _id: k.hash, keyId: k.id })) as never[], { ordered: false });
  }
  const elapsed = performance.now() - started;
  // Look the keys up in a random order (seeded, printed), not in insertion order.
  const random = seededRandomFor('scale');
  picked.sort(() => random() - 0.5);
  return { raw, hashes, picked, elapsed };
}

/** Times one `findByHash` per key, sequentially, and checks each answer. */
async function timeLookups(store: MongoKeyStore, keys: readonly StoredKey[]) {
  const times: number[] = [];
  const wrong: string[] = [];
  const started = performance.now();
  for (const key of keys) {
    const start = performance.now();
    const found = await store.findByHash(key.hash);
    times.push(performance.now() - start);
    if (found?.id !== key.id || found.hash !== key.hash) wrong.push(key.id);
  }
  return { total: performance.now() - started, times, wrong };
}

/** Every stage object of an explain document, whatever its shape (classic, slot-based, sharded). */
function stages(node: unknown, found: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(node)) for (const item of node) stages(item, found);
  else if (node && typeof node === 'object') {
    const object = node as Record<string, unknown>;
    if (typeof object.stage === 'string') found.push(object);
    for (const value of Object.values(object)) stages(value, found);
  }
  return found;
}

// A measurement (about a minute on FerretDB): run it with KEYWARD_SLOW=1. The default suite keeps every
// correctness check of lookups by hash (conformance.test.ts); this one adds only the figures at scale.
if (!SLOW) console.info('[scale] skipped: a measurement with 100,000 keys; run it with KEYWARD_SLOW=1');

describe.skipIf(!SLOW)('MongoKeyStore with many keys', () => {
  // A lookup by hash is two `_id` lookups: the pointer `{ _id: hash, keyId }`, then the key by id. On MongoDB
  // each is an index lookup. FerretDB
  // 1.24 (SQLite) pushes a filter on `_id` alone down to SQLite, but its query (`_ferretdb_sjson->'$._id' = ?`)
  // does not match the expression of its `_id_` index (`_ferretdb_sjson->"_id"`), so SQLite still scans the
  // table (explain: "SCAN <table>"), only without decoding each document in FerretDB: about 25 times faster
  // than a filter on any other field, but still linear (about 0.1 s per lookup with 20,000 keys, 0.5 s with
  // 100,000). 1,000 lookups on 100,000 keys would take about ten minutes there, so FerretDB does 20.
  const lookups = db.isFerretDB ? 20 : 1_000;
  if (db.isFerretDB) {
    console.warn(
      '[scale] FerretDB: 20 findByHash lookups instead of 1,000 (each scans the SQLite table, see scale.test.ts)',
    );
  }
  it('finds keys by hash among 100,000 with two _id queries', async () => {
    const connection = (await connect(mongoose)) as unknown as Connection;
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection });
    try {
      await store.ensureIndexes();
      const { raw, hashes, picked, elapsed } = await insertKeys(connection, collection, 100_000, lookups);
      expect(await raw.countDocuments()).toBe(100_000);
      expect(picked).toHaveLength(lookups);
      console.log(`[scale] inserted 100,000 keys in ${ms(elapsed)} ms (batches of 10,000)`);

      const probe = picked[0] as StoredKey;
      if (db.isFerretDB) {
        // FerretDB's explain has no execution stats: it says whether the filter reached SQLite, and SQLite's plan.
        const explain = (await hashes.find({ _id: probe.hash as never }).explain()) as {
          filterPushdown?: unknown;
          queryPlanner?: { Plan?: unknown };
        };
        expect(explain.filterPushdown).toBe(true);
        console.log(
          `[scale] FerretDB find({ _id: hash }): filterPushdown ${String(explain.filterPushdown)}, SQLite plan ${JSON.stringify(explain.queryPlanner?.Plan)}`,
        );
      } else {
        const explain = await hashes.find({ _id: probe.hash as never }).explain('executionStats');
        const all = stages(explain);
        const idLookups = all.filter(
          (s) =>
            s.stage === 'IDHACK' ||
            (String(s.stage).includes('IXSCAN') &&
              (s.indexName === '_id_' || JSON.stringify(s.keyPattern) === '{"_id":1}')),
        );
        expect(idLookups.length, 'an _id lookup (IDHACK or an _id_ index scan)').toBeGreaterThan(0);
        expect(all.map((s) => s.stage)).not.toContain('COLLSCAN');
        expect(explain.executionStats).toMatchObject({ nReturned: 1, totalDocsExamined: 1 });
      }

      const { total, times, wrong } = await timeLookups(store, picked);
      expect(times).toHaveLength(lookups);
      expect(wrong).toEqual([]);
      console.log(
        `[scale] ${lookups.toLocaleString('en')} findByHash on 100,000 keys: ${ms(total)} ms total (p50 ${ms(percentile(times, 50))} ms, p99 ${ms(percentile(times, 99))} ms)`,
      );
    } finally {
      await store.close();
    }
  }, 240_000);
});
