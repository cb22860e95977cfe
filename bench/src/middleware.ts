// Load benchmark of the verifying middleware on loopback: requests per second and latency of each
// scenario, as a ratio of a no-auth baseline measured in the same run. Scenarios run interleaved in
// several rounds and the median round counts, so drift on a busy machine hits them all alike.
// Bounded: ROUNDS x scenarios x DURATION seconds (about 40 s by default).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 10;

const server = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('./middleware-server.ts', import.meta.url).pathname],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
const { port, tokens } = JSON.parse(line) as { port: number; tokens: Record<string, string> };
const base = `http://127.0.0.1:${port}`;

const scenarios = [
  { name: 'baseline (no auth)', path: '/baseline', token: null },
  {
    name: 'hand-rolled passport-headerapikey (SHA-256 + Map)',
    path: '/hand-rolled',
    token: tokens.handRolledToken,
  },
  { name: 'keyward apiKeyAuth, cached', path: '/keyward', token: tokens.cachedToken },
  {
    name: 'keyward apiKeyAuth, cache off (memory store)',
    path: '/keyward-no-cache',
    token: tokens.uncachedToken,
  },
  {
    name: 'keyward apiKeyAuth, malformed token (401)',
    path: '/keyward-invalid',
    token: 'kw_sk_not-a-real-token',
  },
];

type Row = { name: string; rps: number; p50: number; p99: number; non2xx: number };
const runs = new Map<string, Row[]>(scenarios.map((s) => [s.name, []]));
try {
  for (const scenario of scenarios) await run(scenario, 1); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of scenarios) {
      const result = await run(scenario, DURATION_S);
      const row = {
        name: scenario.name,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
      };
      runs.get(scenario.name)?.push(row);
      process.stderr.write(`round ${round + 1}: ${scenario.name}: ${Math.round(row.rps)} req/s\n`);
    }
  }
} finally {
  server.kill('SIGTERM');
}
const rows = [...runs.values()].map(
  (list) => [...list].sort((a, b) => a.rps - b.rps)[Math.floor(list.length / 2)] as Row,
);

const baseline = rows[0]?.rps ?? 1;
const report = [
  `# Middleware benchmark`,
  '',
  `${new Date().toISOString()} · Node ${process.version} · ${CONNECTIONS} connections · median of ${ROUNDS} interleaved rounds of ${DURATION_S} s · loopback`,
  '',
  'Reproduce: `pnpm --filter @keyward/bench bench:middleware`. Server and load generator are separate processes on one 2-core machine; compare ratios, not absolute figures.',
  '',
  '| scenario | req/s | vs baseline | p50 ms | p99 ms | non-2xx |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${Math.round(r.rps)} | ${(r.rps / baseline).toFixed(2)} | ${r.p50} | ${r.p99} | ${r.non2xx} |`,
  ),
  '',
].join('\n');
writeFileSync(new URL('../results/middleware.md', import.meta.url), report);
process.stdout.write(report);

function run(scenario: { path: string; token?: string | null }, duration: number) {
  const headers: Record<string, string> = scenario.token ? { authorization: `Bearer ${scenario.token}` } : {};
  return autocannon({ url: `${base}${scenario.path}`, headers, connections: CONNECTIONS, duration });
}
