// Memory, two measurements, each in a process of its own (`node --expose-gc`), each figure after two full GCs.
//
// `memory.ts` (flood): RSS and heap of this process before and after 1,000,000 distinct, checksum-valid
// tokens that no store holds are passed to `keyward.verify` in-process (HTTP would take too long). The
// negative cache is an LRU of its own with a `max`, so memory should stay flat; the store is read once per
// token.
//
// `memory.ts per-key`: what one active key costs an app. N (BENCH_MEMORY_KEYS, default 5,000) distinct
// keys of a memory store each make one request through `apiKeyAuth` in an Express app on loopback, which
// leaves every piece of per-key state an app keeps: the verify cache's entry, last-used tracking, the usage
// counters of the key (before their flush: none in this step), and for keys on a plan
// with a limit and credits the limit's counter (the default in-memory limiter) and the credit meter's leased
// block. Bytes per key = (heap after − heap before) / N, once for plain keys and once for keys with a limit
// and credits (two Keyward services, so neither evicts the other's cache entries; the cache holds 10,000).
// The memory store also keeps the credit ledger's entries in this process (on MongoDB they are in the
// database): measured apart, on a ledger of its own, and reported beside the figure.
//
// Usage: node --expose-gc --import tsx src/memory.ts [per-key]  → prints one JSON line. Bounded by TOKENS
// or N.
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { apiKeyAuth } from '@keyward/express';
import express from 'express';
import { BENCH_PEPPER, BENCH_SCOPES, ORG, unknownTokens } from './tokens.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

if (process.argv[2] === 'per-key') {
  process.stdout.write(`${JSON.stringify(await perKey(Number(process.env.BENCH_MEMORY_KEYS ?? 5_000)))}\n`);
  process.exit(0);
}

const TOKENS = Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000);
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

/** Bytes of heap per active key, plain and with a limit and credits (see the top of this file). */
async function perKey(n: number) {
  const WARM = 200;
  // Every key must stay in the verify cache (10,000 entries by default): evictions would lower the figure.
  if (n + WARM > 10_000) throw new Error(`BENCH_MEMORY_KEYS must be at most ${10_000 - WARM}`);
  // The memory store's ledger: one leased block per key, kept in this process by MemoryKeyStore (in the
  // database with MongoKeyStore). Measured apart, first, on a store of its own, with chains named like the meter's.
  const ledger = new MemoryKeyStore();
  const ledgerBefore = heapUsed();
  const leasedUntil = new Date(Date.now() + 60_000);
  for (let i = 0; i < n; i++) {
    await ledger.leaseCredits?.(`credits:key_${i.toString(36).padStart(24, '0')}:plan.metered:0`, {
      n: 0,
      size: 250_000_000,
      leasedUntil,
    });
  }
  const ledgerAfter = heapUsed();
  // Used after the measurement, so that the collector keeps it until then.
  if ((await ledger.readCredits?.(`credits:key_${'0'.repeat(24)}:plan.metered:0`))?.length !== 1) {
    throw new Error('the ledger lost a block');
  }
  const started = performance.now();
  const plan = {
    limits: [{ limit: 1_000_000_000, windowSeconds: 3_600 }],
    credits: { remaining: 1_000_000_000 },
  };
  // Measured before any flush (usage counts every minute, last-used a second after a use, by default): no
  // write to the store in this step, so all that an app holds per key between two flushes is in the figure.
  const service = () =>
    createKeyward({
      store: new MemoryKeyStore(),
      ...BENCH_SCOPES,
      pepper: BENCH_PEPPER,
      plans: { metered: plan },
      usage: { flushIntervalMs: 600_000, flushDelayMs: 600_000 },
    });
  const plain = service();
  const metered = service();
  const tokens = async (keyward: typeof plain, count: number, planName?: string) => {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      // 100 keys per organization (an organization may hold 1,000).
      const created = await keyward.createKey(`${ORG}_${planName ?? 'plain'}_${Math.floor(i / 100)}`, {
        name: `key ${i}`,
        type: 'secret',
        ...(planName && { plan: planName }),
      });
      out.push(created.token);
    }
    return out;
  };
  const plainWarm = await tokens(plain, WARM);
  const meteredWarm = await tokens(metered, WARM, 'metered');
  const plainTokens = await tokens(plain, n);
  const meteredTokens = await tokens(metered, n, 'metered');
  const createSeconds = (performance.now() - started) / 1000;

  const app = express();
  app.get('/plain', apiKeyAuth(plain), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/metered', apiKeyAuth(metered), (_req, res) => {
    res.json({ ok: true });
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const get = (path: string, token: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          res.on('end', () => {
            const credited = path !== '/metered' || res.headers['credits-remaining'] !== undefined;
            if (res.statusCode === 200 && credited) resolve();
            else reject(new Error(`${path}: ${res.statusCode} ${JSON.stringify(res.headers)}`));
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  /** One request per token, 8 at a time. */
  const each = async (path: string, list: string[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < list.length) await get(path, list[next++] as string);
      }),
    );
  };
  // New keys' cache entries are kept short for a second (the store announced their inserts): let that pass,
  // then warm code, connections and pools up on keys of their own.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await each('/plain', plainWarm);
  await each('/metered', meteredWarm);

  const before = heapUsed();
  const requestsStarted = performance.now();
  await each('/plain', plainTokens);
  const afterPlain = heapUsed();
  await each('/metered', meteredTokens);
  const afterMetered = heapUsed();
  const requestSeconds = (performance.now() - requestsStarted) / 1000;
  agent.destroy();
  server.close();
  await once(server, 'close');

  await Promise.all([plain.close(), metered.close()]);
  return {
    keys: n,
    createSeconds,
    requestSeconds,
    plainBytesPerKey: (afterPlain - before) / n,
    meteredBytesPerKey: (afterMetered - afterPlain) / n,
    ledgerBytesPerKey: (ledgerAfter - ledgerBefore) / n,
    heapUsedMB: {
      before: before / 1024 / 1024,
      afterPlain: afterPlain / 1024 / 1024,
      afterMetered: afterMetered / 1024 / 1024,
    },
  };
}

/** Heap in use after two full GCs, with array buffers' backing stores (bytes). */
function heapUsed(): number {
  gc?.();
  gc?.();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
