// Micro-benchmarks of `keyward.verify()` in one process, beside raw anchors measured in the same process
// and run: what a cache hit cannot be cheaper than (one SHA-256 of the token and an LRU get) and what the
// hashes cost alone. Cases run interleaved over rounds; the median round counts.
// Usage: node --import tsx src/micro.ts  → prints one JSON line. Bounded: ROUNDS x cases x SLICE_MS.
import { createHmac, hash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createKeyward, MemoryKeyStore, parseToken } from '@keyward/core';
import { LRUCache } from 'lru-cache';
import { BENCH_PEPPER, BENCH_SCOPES, badChecksumToken, ORG, unknownTokens } from './tokens.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SLICE_MS = Number(process.env.BENCH_MICRO_MS ?? 300);
const BATCH = 1_000;

const keyward = createKeyward({ store: new MemoryKeyStore(), ...BENCH_SCOPES, pepper: BENCH_PEPPER });
const { token } = await keyward.createKey(ORG, { name: 'micro', type: 'secret' });
const garbage = badChecksumToken(token);
const unknown = unknownTokens()();
const requirements = { scopes: ['snippets:read'] };
for (const t of [token, unknown]) await keyward.verify(t); // fill the cache and the negative cache

// The anchor LRU is configured like the verify cache (max, ttl, ttlResolution 0) and holds the key.
const secret = randomBytes(32).toString('base64url');
const lru = new LRUCache<string, object>({ max: 10_000, ttl: 60_000, ttlResolution: 0 });
lru.set(hash('sha256', secret + token, 'base64url'), { id: 'key' });
const pepper = Buffer.from(BENCH_PEPPER);

let sink = 0;
type Case = { name: string; id: string; run: (n: number) => void | Promise<void> };
const cases: Case[] = [
  {
    id: 'verifyHit',
    name: 'verify(), cache hit',
    run: async (n) => {
      for (let i = 0; i < n; i++) sink += (await keyward.verify(token)).valid ? 1 : 0;
    },
  },
  {
    id: 'verifyHitScopes',
    name: "verify(), cache hit, scopes: ['snippets:read'] (what apiKeyAuth asks)",
    run: async (n) => {
      for (let i = 0; i < n; i++) sink += (await keyward.verify(token, requirements)).valid ? 1 : 0;
    },
  },
  {
    id: 'verifyGarbage',
    name: 'verify(), garbage (bad checksum)',
    run: async (n) => {
      for (let i = 0; i < n; i++) sink += (await keyward.verify(garbage)).valid ? 1 : 0;
    },
  },
  {
    id: 'verifyUnknown',
    name: 'verify(), unknown token (negative-cache hit)',
    run: async (n) => {
      for (let i = 0; i < n; i++) sink += (await keyward.verify(unknown)).valid ? 1 : 0;
    },
  },
  {
    id: 'anchorHashLru',
    name: 'anchor: crypto.hash sha256 + lru-cache get',
    run: (n) => {
      for (let i = 0; i < n; i++) sink += lru.get(hash('sha256', secret + token, 'base64url')) ? 1 : 0;
    },
  },
  {
    id: 'anchorHashLruAsync',
    name: 'anchor: crypto.hash sha256 + lru-cache get, in an awaited async function',
    run: async (n) => {
      const lookup = async (t: string) => lru.get(hash('sha256', secret + t, 'base64url'));
      for (let i = 0; i < n; i++) sink += (await lookup(token)) ? 1 : 0;
    },
  },
  {
    id: 'anchorHash',
    name: 'anchor: crypto.hash sha256 alone',
    run: (n) => {
      for (let i = 0; i < n; i++) sink += hash('sha256', secret + token, 'base64url').length;
    },
  },
  {
    id: 'anchorHmac',
    name: 'anchor: createHmac sha256 per call',
    run: (n) => {
      for (let i = 0; i < n; i++)
        sink += createHmac('sha256', pepper).update(token, 'utf8').digest('hex').length;
    },
  },
  {
    id: 'anchorParse',
    name: 'anchor: parseToken (format + CRC32 checksum)',
    run: (n) => {
      for (let i = 0; i < n; i++) sink += parseToken(token, 'kw') ? 1 : 0;
    },
  },
];

async function slice(c: Case, ms: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await c.run(BATCH);
    ops += BATCH;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return (ops / elapsed) * 1000;
}

const started = performance.now();
for (const c of cases) await slice(c, 100); // warm-up: JIT, inline caches
const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no case always runs right after the same neighbour.
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(k + round) % cases.length] as Case;
    samples.get(c.id)?.push(await slice(c, SLICE_MS));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = cases.map((c) => ({
  id: c.id,
  name: c.name,
  opsPerSec: median(samples.get(c.id) ?? []),
  samples: samples.get(c.id),
}));
await keyward.close();
process.stdout.write(
  `${JSON.stringify({ rounds: ROUNDS, sliceMs: SLICE_MS, seconds: (performance.now() - started) / 1000, sink: sink > 0, results })}\n`,
);
