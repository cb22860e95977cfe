// Admin mutations and cold verifies on the Mongo store (FerretDB here: KEYWARD_TEST_DB=ferretdb).
// - mutations: PATCH (rename) through the service on a collection of 100 keys, one at a time: p50/p99.
// - cold verify: `KEYWARD_BENCH_KEYS` keys (default 100,000) bulk-inserted, then uncached verifies of
//   random ones: p50/p99.
// Reproduce: `KEYWARD_TEST_DB=ferretdb pnpm --filter @keyward/bench exec tsx src/write-path.ts`
import { performance } from 'node:perf_hooks';
import { createKeyward } from '@keyward/core';
import { createTokenHasher, generateToken, newKeyId, redactToken, type StoredKey } from '@keyward/core/store';
import { MongoKeyStore } from '@keyward/mongo';
import { startTestDatabase } from '@keyward/test-db';
import mongoose from 'mongoose';

const KEYS = Number(process.env.KEYWARD_BENCH_KEYS ?? 100_000);
const MUTATIONS = Number(process.env.KEYWARD_BENCH_MUTATIONS ?? 100);
const VERIFIES = Number(process.env.KEYWARD_BENCH_VERIFIES ?? 30);
const PEPPER = 'keyward-bench-pepper-not-secret';
const hash = createTokenHasher(PEPPER);

const database = await startTestDatabase();
const connection = await mongoose.createConnection(database.uriFor('kw_bench_write_path')).asPromise();
const pct = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
};
const fmt = (v: number) => v.toFixed(1);
try {
  // Mutations on a small collection.
  {
    const store = new MongoKeyStore({ connection, collection: `mut_${Date.now()}`, timeoutMs: 60_000 });
    await store.ensureIndexes();
    const keyward = createKeyward({ store, scopes: ['read'], pepper: PEPPER, cache: false });
    const ids: string[] = [];
    for (let i = 0; i < 100; i++)
      ids.push((await keyward.createKey('org_bench', { name: `k${i}`, type: 'secret' })).key.id);
    const times: number[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const start = performance.now();
      await keyward.updateKey('org_bench', ids[i % ids.length] as string, { name: `renamed ${i}` });
      times.push(performance.now() - start);
    }
    console.log(
      `PATCH (rename), 100 keys, ${MUTATIONS} calls: p50 ${fmt(pct(times, 50))} ms, p99 ${fmt(pct(times, 99))} ms`,
    );
    await keyward.close();
    await store.close();
  }
  // What the lease itself costs: the three extra round trips of a guarded write (take it, record the
  // write in it, release it) on a lock collection as small as it stays in use.
  {
    const locks = connection.collection(`locks_${Date.now()}`);
    const times: number[] = [];
    for (let i = 0; i < MUTATIONS; i++) {
      const start = performance.now();
      await locks.insertOne({ _id: `key_${i}` as never, owner: 'o', expiresAt: new Date() });
      await locks.updateOne(
        { _id: `key_${i}` as never, owner: 'o' },
        { $set: { op: { id: 'x', set: { name: 'n' } } } },
      );
      await locks.deleteOne({ _id: `key_${i}` as never, owner: 'o' });
      times.push(performance.now() - start);
    }
    console.log(
      `lease (insert + record + delete), ${MUTATIONS} times: p50 ${fmt(pct(times, 50))} ms, p99 ${fmt(pct(times, 99))} ms`,
    );
  }
  // Cold verify with many keys.
  if (KEYS > 0) {
    const collection = `verify_${KEYS}`;
    const store = new MongoKeyStore({ connection, collection, timeoutMs: 120_000 });
    await store.ensureIndexes();
    const tokens: string[] = [];
    const at = new Date();
    const insertStart = performance.now();
    for (let from = 0; from < KEYS; from += 1000) {
      const batch: StoredKey[] = [];
      for (let i = from; i < Math.min(KEYS, from + 1000); i++) {
        const token = generateToken('kw', 'secret');
        if (i % Math.max(1, Math.floor(KEYS / 200)) === 0) tokens.push(token);
        const id = newKeyId();
        batch.push({
          id,
          organizationId: `org_${i % 500}`,
          name: `key ${i}`,
          type: 'secret',
          scopes: ['read'],
          hash: hash(token),
          token: null,
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
        });
      }
      await store.insertMany?.(batch);
    }
    console.log(`inserted ${KEYS} keys in ${fmt((performance.now() - insertStart) / 1000)} s`);
    const keyward = createKeyward({ store, scopes: ['read'], pepper: PEPPER, cache: false });
    const times: number[] = [];
    for (let i = 0; i < VERIFIES; i++) {
      const token = tokens[Math.floor(Math.random() * tokens.length)] as string;
      const start = performance.now();
      const result = await keyward.verify(token);
      times.push(performance.now() - start);
      if (!result.valid) throw new Error(`verify refused a stored key (${result.code})`);
    }
    console.log(
      `cold verify, ${KEYS} keys, ${VERIFIES} calls: p50 ${fmt(pct(times, 50))} ms, p99 ${fmt(pct(times, 99))} ms`,
    );
    await keyward.close();
    await store.close();
  }
} finally {
  await connection.dropDatabase().catch(() => {});
  await connection.close();
  await database.stop();
}
