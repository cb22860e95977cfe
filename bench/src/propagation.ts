// How long until a key deleted through instance A is refused by instance B (separate caches, one
// database)? 100 deletions per change-feed mechanism the database supports; p50 and p99. Bounded:
// each deletion waits at most 2 s. Uses MONGO_URL, else mongodb-memory-server, else FerretDB.
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createKeyward } from '@keyward/core';
import { MongoKeyStore } from '@keyward/mongo';
import { startTestDatabase } from '@keyward/test-db';
import mongoose from 'mongoose';

const DELETIONS = 100;
const database = await startTestDatabase({ replicaSet: process.env.KEYWARD_TEST_DB_REPLICA_SET === '1' });
const lines: string[] = [];
try {
  lines.push(await measure('poll'));
} finally {
  await database.stop();
}

const report = [
  '# Revocation propagation benchmark',
  '',
  `${new Date().toISOString()} · Node ${process.version} · database: ${database.kind}${database.isReplicaSet ? ' (replica set)' : ''}`,
  '',
  'Time from `deleteKey` resolving on instance A until instance B (its own cache, key cached) refuses the key,',
  `over ${DELETIONS} deletions. Reproduce: \`pnpm --filter @keyward/bench bench:propagation\`.`,
  '',
  '| mechanism | p50 ms | p99 ms | max ms |',
  '|---|---:|---:|---:|',
  ...lines,
  '',
].join('\n');
writeFileSync(new URL('../results/propagation.md', import.meta.url), report);
process.stdout.write(report);

async function measure(mode: 'poll'): Promise<string> {
  const uri = database.uriFor(`kw_bench_propagation_${mode.replace('-', '_')}`);
  const connections = await Promise.all([1, 2].map(() => mongoose.createConnection(uri).asPromise()));
  const stores = connections.map((connection) => new MongoKeyStore({ connection }));
  const [a, b] = stores.map((store) =>
    createKeyward({
      store,
      scopes: ['read'],
      publicScopes: ['read'],
      cache: { ttl: 600_000 },
      pepper: 'keyward-bench-pepper-not-secret',
    }),
  );
  if (!a || !b) throw new Error('unreachable');
  try {
    await Promise.all(stores.map((s) => s.ensureIndexes()));
    await Promise.all(stores.map((s) => s.feedReady()));
    const delays: number[] = [];
    for (let i = 0; i < DELETIONS; i++) {
      const { key, token } = await a.createKey('org_bench', { name: `k${i}`, type: 'secret' });
      if (!(await b.verify(token)).valid) throw new Error('B should accept the new key');
      await a.deleteKey('org_bench', key.id);
      const start = performance.now();
      while ((await b.verify(token)).valid) {
        if (performance.now() - start > 2_000) throw new Error(`deletion ${i} not seen by B within 2 s`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      delays.push(performance.now() - start);
    }
    delays.sort((x, y) => x - y);
    const at = (q: number) =>
      (delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? 0).toFixed(0);
    process.stderr.write(`${mode}: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms\n`);
    return `| ${mode} | ${at(0.5)} | ${at(0.99)} | ${(delays.at(-1) ?? 0).toFixed(0)} |`;
  } finally {
    await Promise.all([a.close(), b.close()]);
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(connections.map((c) => c.close()));
  }
}
