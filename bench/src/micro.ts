// Micro-benchmarks of `keyward.verify()` in one process, beside raw anchors measured in the same process
// and run: what a cache hit cannot be cheaper than (one SHA-256 of the token and an LRU get) and what the
// hashes cost alone. Rates are per second of this process's CPU time, so time the shared machine gives to
// other work does not count. The machine's speed still drifts by tens of percent over seconds (other
// tenants, clock changes), so each case is measured in pairs with the anchor, slice beside slice (order
// alternating), and its ratio to the anchor is the median of the per-pair ratios.
// Usage: node --import tsx src/micro.ts  → prints one JSON line. Bounded: about 2 x ROUNDS x cases x SLICE_MS.
import { createHmac, hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createKeyward, MemoryKeyStore, parseToken } from '@keyward/core';
import { LRUCache } from 'lru-cache';
import { BENCH_PEPPER, BENCH_SCOPES, badChecksumToken, ORG, unknownTokens } from './tokens.js';

const ROUNDS = Number(process.env.BENCH_MICRO_ROUNDS ?? 15);
const SLICE_MS = Number(process.env.BENCH_MICRO_MS ?? 80);
const BATCH = 1_000;

const keyward = createKeyward({ store: new MemoryKeyStore(), ...BENCH_SCOPES, pepper: BENCH_PEPPER });
const created = await keyward.createKey(ORG, { name: 'micro', type: 'secret' });
// Flat strings, as tokens arrive in a request header (these are made by concatenation, which V8 keeps as a
// rope: every character read would go through it).
const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
const token = flat(created.token);
const garbage = flat(badChecksumToken(token));
const unknown = flat(unknownTokens()());
const requirements = { scopes: ['snippets:read'] };
for (const t of [token, unknown]) await keyward.verify(t); // fill the cache and the negative cache

// The anchor is what a cache of one's own would do: the token's plain SHA-256 (hex, crypto.hash's default)
// as the key of an LRU configured like the verify cache (max, ttl, ttlResolution 0) that holds the key.
const lru = new LRUCache<string, object>({ max: 10_000, ttl: 60_000, ttlResolution: 0 });
lru.set(hash('sha256', token), { id: 'key' });
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
  // Synchronous verify on a cache hit, where the service has one (core since verifyCached landed).
  ...(typeof keyward.verifyCached === 'function'
    ? [
        {
          id: 'verifyCachedHit',
          name: 'verifyCached(), cache hit (synchronous)',
          run: (n: number) => {
            for (let i = 0; i < n; i++) sink += keyward.verifyCached(token)?.valid ? 1 : 0;
          },
        },
      ]
    : []),
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
    name: 'anchor: crypto.hash sha256 of the token + lru-cache get',
    run: (n) => {
      for (let i = 0; i < n; i++) sink += lru.get(hash('sha256', token)) ? 1 : 0;
    },
  },
  {
    id: 'anchorHashLruAsync',
    name: 'anchor: crypto.hash sha256 of the token + lru-cache get, in an awaited async function',
    run: async (n) => {
      const lookup = async (t: string) => lru.get(hash('sha256', t));
      for (let i = 0; i < n; i++) sink += (await lookup(token)) ? 1 : 0;
    },
  },
  {
    id: 'anchorHash',
    name: 'anchor: crypto.hash sha256 of the token alone',
    run: (n) => {
      for (let i = 0; i < n; i++) sink += hash('sha256', token).length;
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

/**
 * Runs `c` for about `ms` of wall time and returns its rate per second of this process's CPU time
 * (`process.cpuUsage`), which does not advance while other work on the shared machine has the core, and
 * per second of wall time.
 */
async function slice(c: Case, ms: number): Promise<{ cpu: number; wall: number }> {
  let ops = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let elapsed = 0;
  do {
    await c.run(BATCH);
    ops += BATCH;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: (ops / (cpu.user + cpu.system)) * 1e6, wall: (ops / elapsed) * 1000 };
}

const started = performance.now();
for (const c of cases) await slice(c, 100); // warm-up: JIT, inline caches
const anchorCase = cases.find((c) => c.id === 'anchorHashLru') as Case;
const samples = new Map<string, { cpu: number; wall: number; vsAnchor: number }[]>(
  cases.map((c) => [c.id, []]),
);
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no case always runs right after the same neighbour.
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(k + round) % cases.length] as Case;
    // The anchor beside it, before or after in turn: the pair sees the same speed of the machine.
    const anchorFirst = (round + k) % 2 === 0;
    const before = anchorFirst ? await slice(anchorCase, SLICE_MS) : null;
    const mine = await slice(c, SLICE_MS);
    const anchor = before ?? (await slice(anchorCase, SLICE_MS));
    samples.get(c.id)?.push({ ...mine, vsAnchor: mine.cpu / anchor.cpu });
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const results = cases.map((c) => {
  const mine = samples.get(c.id) ?? [];
  return {
    id: c.id,
    name: c.name,
    /** Operations per second of CPU time, median of the rounds. */
    opsPerSec: median(mine.map((s) => s.cpu)),
    /** Operations per second of wall time, median of the rounds (suffers from other work on the machine). */
    opsPerWallSec: median(mine.map((s) => s.wall)),
    /** Its rate over the anchor's in the slice beside it, median of the pairs. */
    vsAnchor: median(mine.map((s) => s.vsAnchor)),
    samples: mine,
  };
});
await keyward.close();
process.stdout.write(
  `${JSON.stringify({ rounds: ROUNDS, sliceMs: SLICE_MS, seconds: (performance.now() - started) / 1000, sink: sink > 0, results })}\n`,
);
