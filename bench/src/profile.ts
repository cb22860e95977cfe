// Profiles one HTTP scenario: starts src/http-server.ts under `node --cpu-prof` (profile written to a new
// temporary directory, never into the tree), loads it with autocannon for PROFILE_S seconds, stops it and
// prints the functions with the most self time, and self time by area (Express, Keyward, Node internals…).
//
// Usage: pnpm --filter @keyward/bench run profile [hot|limit-memory|plan-memory|plan-redis|credits|passport|garbage|no-cache|bare|hand-rolled|demo-whoami|demo-healthz] (default hot)
// Bounded: PROFILE_S (default 10) seconds of load; the server is killed if it has not exited 20 s later.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const SCENARIOS: Record<string, { path: string; token: string | null }> = {
  hot: { path: '/hot', token: 'hot' },
  'limit-memory': { path: '/limit-memory', token: 'limited' },
  'plan-memory': { path: '/plan-memory', token: 'planned' },
  'plan-redis': { path: '/plan-redis', token: 'planned' },
  credits: { path: '/credits', token: 'credited' },
  passport: { path: '/passport', token: 'hot' },
  garbage: { path: '/flood', token: 'garbage' },
  'no-cache': { path: '/no-cache', token: 'noCache' },
  'hand-rolled': { path: '/hand-rolled', token: 'handRolled' },
  bare: { path: '/bare', token: null },
  'demo-whoami': { path: '/v1/whoami', token: 'demo' },
  'demo-healthz': { path: '/healthz', token: null },
};
const name = process.argv[2] ?? 'hot';
const scenario = SCENARIOS[name];
if (!scenario) throw new Error(`unknown scenario ${name}; one of ${Object.keys(SCENARIOS).join(', ')}`);
const SECONDS = Number(process.env.PROFILE_S ?? 10);
const TOP = Number(process.env.PROFILE_TOP ?? 30);

const dir = mkdtempSync(join(tmpdir(), 'keyward-profile-'));
const server = spawn(
  process.execPath,
  [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '--import',
    'tsx',
    new URL('./http-server.ts', import.meta.url).pathname,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const killer = setTimeout(() => server.kill('SIGKILL'), (SECONDS + 30) * 1000);
killer.unref();
const [line] = (await once(createInterface({ input: server.stdout }), 'line')) as [string];
const { port, tokens } = JSON.parse(line) as { port: number; tokens: Record<string, string> };
await new Promise((resolve) => setTimeout(resolve, 1_200)); // let new keys' short first cache entries pass
const headers: Record<string, string> = scenario.token
  ? { authorization: `Bearer ${tokens[scenario.token]}` }
  : {};
const base = `http://127.0.0.1:${port}`;
const { monotonicUs: windowStartUs } = (await (await fetch(`${base}/__cpu/start`)).json()) as {
  monotonicUs: number;
};
const result = await autocannon({
  url: `${base}${scenario.path}`,
  headers,
  connections: 10,
  duration: SECONDS,
});
const window = (await (await fetch(`${base}/__cpu/stop`)).json()) as {
  user: number;
  system: number;
  requests: number;
};
server.kill('SIGTERM');
await once(server, 'exit');
clearTimeout(killer);

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
};
// Only the load: samples from the moment the server opened its measurement window (startup left out).
const inWindow = windowStartUs >= profile.startTime && windowStartUs <= profile.endTime;
let at = profile.startTime;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);
const isDownstream = (url: string) => /node_modules\/(express|router|passport)\//.test(url);
const isKeyward = (url: string) => url.includes('/packages/core/') || url.includes('/packages/express/');
/** Inclusive time of Keyward's functions (each counted once per sample), and of Keyward as a whole. */
const keywardInclusiveUs = new Map<string, number>();
let keywardUs = 0;
const selfUs = new Map<string, number>();
const areaUs = new Map<string, number>();
let totalUs = 0;
let idleUs = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  if (!node || (inWindow && at < windowStartUs)) return;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') {
    idleUs += dt;
    return;
  }
  totalUs += dt;
  const key = `${functionName || '(anonymous)'}  ${shorten(url)}${url ? `:${lineNumber + 1}` : ''}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  // Keyward's own time: samples with a Keyward frame below any Express/router frame. Walking up from the
  // leaf stops at the first Express or router frame, so what the middleware's next() runs (the route
  // handler, res.json) is not counted as Keyward's.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
    const frame = byId.get(cur)?.callFrame;
    if (!frame) continue;
    if (isDownstream(frame.url)) break;
    if (!isKeyward(frame.url)) continue;
    const name = `${frame.functionName || '(anonymous)'}  ${shorten(frame.url)}:${frame.lineNumber + 1}`;
    if (seen.has(name)) continue;
    seen.add(name);
    keywardInclusiveUs.set(name, (keywardInclusiveUs.get(name) ?? 0) + dt);
  }
  if (seen.size > 0) keywardUs += dt;
  const area = areaOf(functionName, url);
  areaUs.set(area, (areaUs.get(area) ?? 0) + dt);
});

const pct = (us: number) => `${((100 * us) / totalUs).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
const out = [
  `scenario ${name}: ${Math.round(result.requests.average)} req/s over ${SECONDS} s (${result.requests.total} requests, ${result.non2xx} non-2xx)`,
  `profile: ${join(dir, file)} (open in Chrome DevTools › Performance, or speedscope)`,
  `server CPU ${((window.user + window.system) / Math.max(1, window.requests)).toFixed(1)} µs per request (process.cpuUsage, profiler overhead included)`,
  `busy ${ms(totalUs).trim()}, idle ${ms(idleUs).trim()}; ${inWindow ? 'load only (startup left out)' : 'WARNING: whole process, startup included (clock mismatch)'}`,
  '',
  `top ${TOP} functions by self time (% of busy time):`,
  ...[...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([key, us]) => `${pct(us)} ${ms(us)}  ${key}`),
  '',
  `Keyward's own time (a @keyward frame on the stack below any Express/router/passport frame): ${pct(keywardUs)} ${ms(keywardUs)}`,
  'of which, inclusive per function:',
  ...[...keywardInclusiveUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([key, us]) => `${pct(us)} ${ms(us)}  ${key}`),
  '',
  'self time by area:',
  ...[...areaUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([area, us]) => `${pct(us)} ${ms(us)}  ${area}`),
  '',
];
process.stdout.write(out.join('\n'));

function shorten(url: string): string {
  const at = url.lastIndexOf('node_modules/');
  if (at !== -1) return url.slice(at + 'node_modules/'.length);
  const packages = url.indexOf('/packages/');
  if (packages !== -1) return url.slice(packages + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) {
    const mod = url.slice(5).split('/').slice(0, 2).join('/');
    return `node:${mod}`;
  }
  if (url.includes('/packages/core/')) return '@keyward/core';
  if (url.includes('/packages/express/')) return '@keyward/express';
  const at = url.lastIndexOf('node_modules/');
  if (at !== -1) {
    const parts = url.slice(at + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  if (url.includes('/bench/')) return 'bench (the route handlers)';
  return url;
}
