// Time-to-usable of the dashboard on a slow-3G profile, its files unbundled (the sources, one ES module
// each: what the page loaded before the bundle) and bundled (`pnpm build`: one minified module, hashed
// names), both brotli-compressed by the router. Chromium (Debian's, or KEYWARD_CHROMIUM) with DevTools'
// "Slow 3G" network (2,000 ms latency, 400 kbit/s each way) and a 4× CPU slowdown, over CDP, cache
// disabled: from navigation start until the table shows its rows and "New API key" is enabled. Runs
// alternate between the two (ROUNDS each); the median of each is reported, with its requests and bytes.
// Usage: node --import tsx src/dashboard.ts  → prints one JSON line. Needs `pnpm build` (for the bundle).
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createAdminRouter } from '@keyward/admin';
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import express from 'express';
import { chromium } from 'playwright-core';
import { loadDashboardAssets } from '../../packages/admin/src/dashboard-assets.js';
import { dashboardRouterServing } from '../../packages/admin/src/dashboard-router.js';
import { BENCH_PEPPER, BENCH_SCOPES, ORG } from './tokens.js';

const ROUNDS = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 3);
const CHROMIUM = process.env.KEYWARD_CHROMIUM?.trim() || '/usr/bin/chromium';
const SOURCES = new URL('../../packages/admin/dashboard/', import.meta.url);
const BUNDLE = new URL('../../packages/admin/dist/dashboard/', import.meta.url);
/** DevTools' "Slow 3G": 2 s round trip, 500 kbit/s × 0.8 each way. */
const SLOW_3G = { offline: false, latency: 2_000, downloadThroughput: 51_200, uploadThroughput: 51_200 };
const CPU_SLOWDOWN = 4;

if (!existsSync(CHROMIUM)) {
  process.stdout.write(`${JSON.stringify({ skipped: `no Chromium at ${CHROMIUM}` })}\n`);
  process.exit(0);
}

const keyward = createKeyward({ store: new MemoryKeyStore(), ...BENCH_SCOPES, pepper: BENCH_PEPPER });
for (let i = 0; i < 20; i++) await keyward.createKey(ORG, { name: `Key ${i}`, type: 'secret' });
const unbundled = loadDashboardAssets(SOURCES, null);
const bundled = loadDashboardAssets(SOURCES, BUNDLE);
if (bundled.get('main.js')?.body.equals(unbundled.get('main.js')?.body ?? Buffer.alloc(0))) {
  throw new Error('no bundle built from the current sources: run `pnpm build` first');
}
const app = express();
app.use('/api/keys', createAdminRouter({ keyward, authorize: () => ({ organizationId: ORG }) }));
app.use('/unbundled', dashboardRouterServing({ apiUrl: '/api/keys' }, unbundled));
app.use('/bundled', dashboardRouterServing({ apiUrl: '/api/keys' }, bundled));
const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
});

/** One cold load of the page at `path`: ms to usable, and its requests and bytes on the wire. */
async function load(path: string) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', SLOW_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  let requests = 0;
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
    requests += 1;
    bytes += event.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(`${base}${path}`, { waitUntil: 'commit', timeout: 120_000 });
  await page.waitForSelector('#kw-rows > tr', { timeout: 120_000 });
  await page.waitForSelector('#kw-new-key:not([disabled])', { timeout: 120_000 });
  const ms = Date.now() - started;
  await context.close();
  return { ms, requests, bytes };
}

const runs: Record<'unbundled' | 'bundled', Array<{ ms: number; requests: number; bytes: number }>> = {
  unbundled: [],
  bundled: [],
};
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['unbundled', 'bundled'] as const) : (['bundled', 'unbundled'] as const);
    for (const variant of order) runs[variant].push(await load(`/${variant}`));
  }
} finally {
  await browser.close();
  server.close();
  await keyward.close();
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const summary = (variant: 'unbundled' | 'bundled') => ({
  msToUsable: median(runs[variant].map((r) => r.ms)),
  requests: median(runs[variant].map((r) => r.requests)),
  kB: Math.round(median(runs[variant].map((r) => r.bytes)) / 102.4) / 10,
  runsMs: runs[variant].map((r) => r.ms),
});
process.stdout.write(
  `${JSON.stringify({
    profile: { ...SLOW_3G, cpuSlowdown: CPU_SLOWDOWN },
    rounds: ROUNDS,
    unbundled: summary('unbundled'),
    bundled: summary('bundled'),
  })}\n`,
);
