// Memory under a flood of invented tokens: RSS and heap of this process before and after 1,000,000
// distinct, checksum-valid tokens that no store holds are passed to `keyward.verify` in-process (HTTP would
// take too long), each measured after a full GC. The negative cache is an LRU of its own with a `max`, so
// memory should stay flat; the store is read once per token.
// Usage: node --expose-gc --import tsx src/memory.ts  → prints one JSON line. Bounded by TOKENS.
import { performance } from 'node:perf_hooks';
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { BENCH_PEPPER, BENCH_SCOPES, ORG, unknownTokens } from './tokens.js';

const TOKENS = Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

const store = new MemoryKeyStore();
const keyward = createKeyward({ store, ...BENCH_SCOPES, pepper: BENCH_PEPPER });
const good = await keyward.createKey(ORG, { name: 'good', type: 'secret' });
const goodHash = (await store.findById(ORG, good.key.id))?.hash;
let reads = 0;
let goodReads = 0;
const findByHash = store.findByHash.bind(store);
store.findByHash = (hash) => {
  reads++;
  if (hash === goodHash) goodReads++;
  return findByHash(hash);
};
// A new key's cache entry is kept short for a second (the store announced its insert): let that pass.
await new Promise((resolve) => setTimeout(resolve, 1_100));
const next = unknownTokens();
// A first few thousand so code, caches and pools are warm before the "before" figure.
for (let i = 0; i < 5_000; i++) await keyward.verify(next());
await keyward.verify(good.token);

const before = measure();
const readsBefore = reads;
const goodReadsBefore = goodReads;
const started = performance.now();
let accepted = 0;
let goodChecks = 0;
for (let i = 0; i < TOKENS; i++) {
  if ((await keyward.verify(next())).valid) accepted++;
  // The good key, once every 1,000 invented tokens: does the flood push it out of the cache?
  if (i % 1_000 === 999) {
    goodChecks++;
    if (!(await keyward.verify(good.token)).valid) throw new Error('the good key was refused');
  }
}
const seconds = (performance.now() - started) / 1000;
const readsDuring = reads - readsBefore - (goodReads - goodReadsBefore);
const goodKeyHitRatio = 1 - (goodReads - goodReadsBefore) / goodChecks;
const after = measure();
await keyward.close();

process.stdout.write(
  `${JSON.stringify({
    tokens: TOKENS,
    seconds,
    verifiesPerSec: TOKENS / seconds,
    accepted,
    storeReads: readsDuring,
    goodKeyChecks: goodChecks,
    goodKeyHitRatio,
    before,
    after,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);

function measure() {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external) };
}
