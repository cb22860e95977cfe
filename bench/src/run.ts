// `pnpm bench`: one run of every scenario, on loopback, bounded in time, stopping by itself.
//
// 1. HTTP: an Express server in its own process (src/http-server.ts), load from autocannon here. All
//    scenarios interleaved over ROUNDS rounds (order rotated each round); per scenario the median round.
//    The server measures its own CPU time per request between GET /__cpu/start and /__cpu/stop.
// 2. Memory: RSS before/after 1,000,000 invented tokens through keyward.verify (src/memory.ts, own process);
//    heap per active key, plain and with a limit and credits (src/memory.ts per-key, own process).
// 3. Micro: verify() beside raw hashing anchors (src/micro.ts, own process).
// 4. Dashboard: time to usable on slow 3G, unbundled and bundled (src/dashboard.ts, own process, Chromium).
// Writes results/latest.json and results/latest.md, puts the markdown in README.md and prints it.
// Bounded: a watchdog ends everything after BENCH_DEADLINE_S (default 720 s) of benchmark, counted once the
// database is up; starting it (on a new machine: building the FerretDB runner, about 2 minutes, once) has a
// bound of its own, BENCH_SETUP_DEADLINE_S (default 300 s).
// BENCH_ONLY=id,id (e.g. limitMemory,limitRedis) runs only those scenarios and their baselines, prints their
// rows and writes nothing (a quick look; BENCH_NO_MONGO=1 skips the database).
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { startTestDatabase, type TestDatabase } from '@keyward/test-db';
import autocannon from 'autocannon';
import { unknownTokens } from './tokens.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
/** Rounds and window (s) of the in-app pairs: a scenario's requests alternated with the bare route's. */
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS ?? 5);
const PAIR_DURATION_S = Number(process.env.BENCH_PAIR_DURATION ?? 1);
const CONNECTIONS = 10;
const DEADLINE_S = Number(process.env.BENCH_DEADLINE_S ?? 720);
const SETUP_DEADLINE_S = Number(process.env.BENCH_SETUP_DEADLINE_S ?? 300);
/** In the unknown-token flood, one request in this many carries the good key. */
const FLOOD_GOOD_EVERY = 10;
const startedAt = performance.now();
const children = new Set<ChildProcess>();
let database: TestDatabase | null = null;

/** Ends everything, children and database included, once `seconds` have passed. */
function watchdog(seconds: number, what: string): NodeJS.Timeout {
  const timer = setTimeout(() => {
    process.stderr.write(`bench: ${what} over its ${seconds} s bound, stopping\n`);
    for (const child of children) child.kill('SIGKILL');
    void database?.stop().finally(() => process.exit(2));
    setTimeout(() => process.exit(2), 5_000).unref();
  }, seconds * 1000);
  timer.unref();
  return timer;
}
let bound = watchdog(SETUP_DEADLINE_S, 'starting the database');

const log = (text: string) => process.stderr.write(`[bench ${elapsed().toFixed(0).padStart(3)} s] ${text}\n`);

type Tokens = Record<string, string>;
interface Scenario {
  id: string;
  name: string;
  /** The scenario whose figures this one is compared with. */
  baseline: string;
  /**
   * The request waits for I/O (a database, Redis) between dispatch and response: its in-app time is then
   * mostly waiting, not work, and is not reported.
   */
  io?: true;
  /** One piece of a cached key's cost (`floor…`): measured only when BENCH_ONLY names it. */
  breakdown?: true;
  /** Status the server should answer with (`mixed`: the unknown flood, whose good-key requests pass). */
  expect: 200 | 401 | 'mixed';
  options(tokens: Tokens): {
    path?: string;
    headers?: Record<string, string>;
    requests?: autocannon.Request[];
  };
}
const bearer = (token: string | undefined) => ({ headers: { authorization: `Bearer ${token}` } });
const scenarios: Scenario[] = [
  {
    id: 'bare',
    name: 'bare Express route (baseline)',
    baseline: 'bare',
    expect: 200,
    options: () => ({ path: '/bare' }),
  },
  {
    id: 'noop',
    name: 'a no-op middleware before the route (the floor of any middleware)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/noop', ...bearer(t.hot) }),
  },
  {
    id: 'hot',
    name: 'apiKeyAuth, cached key (hot)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/hot', ...bearer(t.hot) }),
  },
  {
    id: 'hotUncounted',
    name: 'apiKeyAuth, cached key, usage counting off (pair with "hot": what counting costs)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/hot-uncounted', ...bearer(t.uncounted) }),
  },
  {
    id: 'limitMemory',
    name: 'apiKeyAuth + one limit (memory store), cached key',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/limit-memory', ...bearer(t.limited) }),
  },
  {
    id: 'planMemory',
    name: 'apiKeyAuth + a plan of two windows (memory store), cached key',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/plan-memory', ...bearer(t.planned) }),
  },
  {
    id: 'credits',
    name: 'apiKeyAuth + credits (1 per request, memory store ledger), cached key',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/credits', ...bearer(t.credited) }),
  },
  {
    id: 'limitRedis',
    io: true,
    name: 'apiKeyAuth + one limit (Redis, rate-limit-redis), cached key',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/limit-redis', ...bearer(t.limited) }),
  },
  {
    id: 'planRedis',
    io: true,
    name: "apiKeyAuth + a plan of two windows (Redis, the limiter's redis option: one script call), cached key",
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/plan-redis', ...bearer(t.planned) }),
  },
  {
    id: 'passport',
    name: 'Passport strategy (createPassportStrategy), cached key',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/passport', ...bearer(t.hot) }),
  },
  {
    id: 'passportFloor',
    name: 'a Passport strategy that only calls success() (the floor of any Passport strategy)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/passport-floor', ...bearer(t.hot) }),
  },
  {
    id: 'noCache',
    name: 'apiKeyAuth, cache off (memory store)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/no-cache', ...bearer(t.noCache) }),
  },
  {
    id: 'demoHealthz',
    name: 'demo server: GET /healthz (no key; the baseline of /v1/whoami)',
    baseline: 'demoHealthz',
    expect: 200,
    options: (t) => ({ path: '/healthz', ...bearer(t.demo) }),
  },
  {
    id: 'demoWhoami',
    name: "demo server: GET /v1/whoami, cached secret key (vs the demo's /healthz: at least 0.90)",
    baseline: 'demoHealthz',
    expect: 200,
    options: (t) => ({ path: '/v1/whoami', ...bearer(t.demo) }),
  },
  {
    id: 'handRolled',
    name: 'hand-rolled passport-headerapikey (SHA-256 + Map)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/hand-rolled', ...bearer(t.handRolled) }),
  },
  {
    id: 'naiveMongo',
    io: true,
    name: 'naive: passport-headerapikey + mongoose findOne({ key }) per request (FerretDB)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/naive-mongo', ...bearer(t.naiveMongo) }),
  },
  {
    id: 'naiveMongoId',
    io: true,
    name: 'naive, key as _id: findOne({ _id: key }) per request (FerretDB pushes this filter down)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/naive-mongo-id', ...bearer(t.naiveMongo) }),
  },
  {
    id: 'mongoCached',
    name: 'apiKeyAuth, MongoKeyStore on FerretDB, cached',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/mongo-cached', ...bearer(t.mongoCached) }),
  },
  {
    id: 'mongoCold',
    io: true,
    name: 'apiKeyAuth, MongoKeyStore on FerretDB, cache off (the cold path: one store read per request)',
    baseline: 'bare',
    expect: 200,
    options: (t) => ({ path: '/mongo-cold', ...bearer(t.mongoCached) }),
  },
  {
    id: 'garbage',
    name: 'garbage flood (bad checksum, 401)',
    baseline: 'bare',
    expect: 401,
    options: (t) => ({ path: '/flood', ...bearer(t.garbage) }),
  },
  // The pieces of a cached key's cost, one middleware each before the bare route's handler (BENCH_ONLY).
  ...(
    [
      ['floorHeader', 'reads req.headers.authorization', '/floor-header'],
      ['floorTokenType', "tokenType(token, 'kw') (format and checksum)", '/floor-token-type'],
      [
        'floorHash',
        "one crypto.hash sha256 of an 11-character salt + the token (the verify cache's slot)",
        '/floor-hash',
      ],
      ['floorVerify', 'keyward.verifyCached(token) on a cached key', '/floor-verify'],
      ['floorApiKey', 'req.apiKey = a frozen object', '/floor-api-key'],
      [
        'floorRefusal',
        "a 401 like Keyward's (status, WWW-Authenticate, JSON body), sent by hand",
        '/floor-refusal',
      ],
    ] as const
  ).map(
    ([id, name, path]): Scenario => ({
      id,
      name,
      baseline: 'bare',
      breakdown: true,
      expect: id === 'floorRefusal' ? 401 : 200,
      options: (t) => ({ path, ...bearer(t.hot) }),
    }),
  ),
  {
    id: 'unknown',
    name: `unknown flood (new checksum-valid token per request, 401; 1 in ${FLOOD_GOOD_EVERY} the good key)`,
    baseline: 'bare',
    expect: 'mixed',
    options: (t) => {
      const next = unknownTokens();
      const flooding: autocannon.Request = {
        method: 'GET',
        path: '/flood',
        setupRequest: (req) => {
          req.headers = { ...req.headers, authorization: `Bearer ${next()}` };
          return req;
        },
      };
      const good: autocannon.Request = {
        method: 'GET',
        path: '/flood',
        headers: { authorization: `Bearer ${t.floodGood}` },
      };
      return { requests: [...Array.from({ length: FLOOD_GOOD_EVERY - 1 }, () => flooding), good] };
    },
  },
];

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  ok2xx: number;
  errors: number;
  cpuUsPerReq: number;
  /** Median synchronous dispatch time of a request through the app, µs (see http-server.ts). */
  dispatchUs: number;
  serverRequests: number;
  reads: Record<string, number>;
}

let server: ChildProcess | null = null;
try {
  if (process.env.BENCH_NO_MONGO !== '1') {
    log('starting the database (FerretDB unless MONGO_URL is set)');
    database = await startTestDatabase();
  }
  clearTimeout(bound);
  bound = watchdog(DEADLINE_S, 'the benchmark');
  log('starting the server');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./http-server.ts', import.meta.url).pathname,
      ...(database ? [database.uri] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  server = child;
  children.add(child);
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const { port, tokens, mongo, redis } = JSON.parse(line) as {
    port: number;
    tokens: Tokens;
    mongo: boolean;
    redis: boolean;
  };
  const base = `http://127.0.0.1:${port}`;
  if (!redis) log('redis-server not found (or BENCH_NO_REDIS=1): the Redis scenarios are left out');
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
  const wanted =
    only && new Set(only.flatMap((id) => [id, scenarios.find((s) => s.id === id)?.baseline ?? id]));
  const active = scenarios.filter(
    (s) =>
      (mongo || !['naiveMongo', 'naiveMongoId', 'mongoCached', 'mongoCold'].includes(s.id)) &&
      (redis || !['limitRedis', 'planRedis'].includes(s.id)) &&
      (wanted ? wanted.has(s.id) : !s.breakdown),
  );

  // New keys' cache entries are kept short for a second after the store announces them: let that pass.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  log('warm-up');
  for (const scenario of active) await measure(base, scenario, tokens, 1);
  const samples = new Map<string, Sample[]>(active.map((s) => [s.id, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < active.length; k++) {
      const scenario = active[(k + round) % active.length] as Scenario;
      const sample = await measure(base, scenario, tokens, DURATION_S);
      samples.get(scenario.id)?.push(sample);
      log(
        `round ${round + 1}/${ROUNDS} ${scenario.id}: ${Math.round(sample.rps)} req/s, ${sample.cpuUsPerReq.toFixed(1)} µs CPU/req, ${sample.dispatchUs.toFixed(2)} µs in the app`,
      );
    }
  }
  // In-app pairs: each scenario without I/O alternated request by request with the bare route in one
  // window, so both see the same state of the machine; per round the difference of their in-app medians.
  const pairs = new Map<string, Pair[]>();
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const scenario of active.filter((s) => s.id !== 'bare' && !s.io)) {
      const pair = await measurePair(base, scenario, tokens);
      pairs.set(scenario.id, [...(pairs.get(scenario.id) ?? []), pair]);
      log(
        `in-app pair ${round + 1}/${PAIR_ROUNDS} ${scenario.id}: ${pair.mineUs.toFixed(2)} µs, bare ${pair.bareUs.toFixed(2)} µs`,
      );
    }
  }
  server.kill('SIGTERM');
  await once(server, 'exit');
  children.delete(server);
  server = null;
  await database?.stop();
  database = null;
  if (only) {
    const rows = summarize(active, samples, pairs);
    const share = inAppShareOf(rows);
    process.stdout.write(
      `share of a bare request's CPU spent in the app: ${(share * 100).toFixed(1)} % (CPU vs bare, from the pairs = 1 + (in-app ratio − 1) × share)\n`,
    );
    for (const row of rows) {
      const inApp = row.io
        ? 'in the app: – (waits for I/O)'
        : `in the app ${row.dispatchUs.toFixed(2)} µs/req (${row.inAppOverBareUs.toFixed(2)} over bare, × ${row.inAppVsBare.toFixed(3)}, paired; CPU vs bare, from the pairs ${(1 + (row.inAppVsBare - 1) * share).toFixed(3)})`;
      process.stdout.write(
        `${row.id}: ${Math.round(row.rps)} req/s, server CPU ${row.cpuUsPerReq.toFixed(1)} µs/req (${row.cpuOverBaselineUs.toFixed(1)} over ${row.baseline}), ${inApp}\n`,
      );
    }
    for (const line of redisLines(rows)) process.stdout.write(`${line}\n`);
    process.exit(0);
  }

  const memoryStep = (...args: string[]) =>
    childJson(['--expose-gc', '--import', 'tsx', new URL('./memory.ts', import.meta.url).pathname, ...args]);
  log('memory: invented tokens through verify, in-process');
  const memory = await memoryStep();
  log('memory: heap per active key, in-process');
  const memoryPerKey = await memoryStep('per-key');
  log('micro-benchmarks');
  const micro = await childJson(['--import', 'tsx', new URL('./micro.ts', import.meta.url).pathname]);
  log('dashboard: time to usable on slow 3G, unbundled and bundled');
  const dashboard = await childJson(['--import', 'tsx', new URL('./dashboard.ts', import.meta.url).pathname]);

  const http = summarize(active, samples, pairs);
  const result = {
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
      loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    settings: {
      rounds: ROUNDS,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      floodGoodEvery: FLOOD_GOOD_EVERY,
      pairRounds: PAIR_ROUNDS,
      pairDurationS: PAIR_DURATION_S,
    },
    database: mongo ? 'FerretDB 1.24 (SQLite), same machine' : null,
    http,
    memory,
    memoryPerKey,
    micro,
    dashboard,
    seconds: Math.round(elapsed()),
  };
  writeFileSync(new URL('../results/latest.json', import.meta.url), toJson(result));
  const markdown = toMarkdown(result);
  writeFileSync(new URL('../results/latest.md', import.meta.url), markdown);
  updateReadme(markdown);
  process.stdout.write(markdown);
  log(`done in ${Math.round(elapsed())} s`);
} finally {
  clearTimeout(bound);
  if (server) server.kill('SIGTERM');
  await database?.stop();
}

function elapsed() {
  return (performance.now() - startedAt) / 1000;
}

async function measure(base: string, scenario: Scenario, tokens: Tokens, duration: number): Promise<Sample> {
  await control(base, 'start');
  const { path = '/', ...options } = scenario.options(tokens);
  const result = await autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration, ...options });
  const window = (await control(base, 'stop')) as {
    user: number;
    system: number;
    requests: number;
    reads: Record<string, number>;
    inAppUs: Record<string, number>;
  };
  const ok2xx = result['2xx'];
  const wrongStatus =
    scenario.expect === 200 ? result.non2xx : scenario.expect === 401 ? ok2xx : result.errors;
  if (wrongStatus > 0 || result.errors > 0) {
    throw new Error(
      `${scenario.id}: ${wrongStatus} answers were not ${scenario.expect}, ${result.errors} errors — the scenario is broken`,
    );
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    ok2xx,
    errors: result.errors,
    cpuUsPerReq: (window.user + window.system) / Math.max(1, window.requests),
    dispatchUs:
      window.inAppUs[path] ?? (Object.values(window.inAppUs)[0] as number | undefined) ?? Number.NaN,
    serverRequests: window.requests,
    reads: window.reads,
  };
}

/**
 * One in-app pair window: the scenario's requests alternated with the bare route's on every connection;
 * the scenario's in-app median minus the bare route's, in µs.
 */
/** One in-app pair window: the scenario's and the bare route's in-app medians, µs. */
interface Pair {
  mineUs: number;
  bareUs: number;
}

async function measurePair(base: string, scenario: Scenario, tokens: Tokens): Promise<Pair> {
  const { path = '/', headers, requests } = scenario.options(tokens);
  const own: autocannon.Request[] = requests ?? [{ method: 'GET', path, ...(headers ? { headers } : {}) }];
  const bare: autocannon.Request = { method: 'GET', path: '/bare' };
  await control(base, 'start');
  await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: PAIR_DURATION_S,
    requests: own.flatMap((request) => [bare, request]),
  });
  const { inAppUs } = (await control(base, 'stop')) as { inAppUs: Record<string, number> };
  const mineUs = Object.entries(inAppUs).find(([timed]) => timed !== '/bare')?.[1] ?? Number.NaN;
  return { mineUs, bareUs: inAppUs['/bare'] ?? Number.NaN };
}

async function control(base: string, what: 'start' | 'stop'): Promise<unknown> {
  const response = await fetch(`${base}/__cpu/${what}`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`/__cpu/${what} answered ${response.status}`);
  return response.json();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function summarize(active: Scenario[], samples: Map<string, Sample[]>, pairs: Map<string, Pair[]>) {
  // Ratios are taken within each round (both figures of one round share the machine's state at the time)
  // and the median of those per-round ratios is reported.
  const byRound = (id: string) => samples.get(id) ?? [];
  return active.map((scenario) => {
    const mine = byRound(scenario.id);
    const base = byRound(scenario.baseline);
    const ratio = (pick: (s: Sample) => number) => median(mine.map((s, i) => pick(s) / pick(base[i] ?? s)));
    const reads = Object.fromEntries(
      Object.keys(mine[0]?.reads ?? {}).map((name) => [
        name,
        mine.reduce((sum, s) => sum + (s.reads[name] ?? 0), 0),
      ]),
    );
    const served = mine.reduce((sum, s) => sum + s.serverRequests, 0);
    const ok2xx = mine.reduce((sum, s) => sum + s.ok2xx, 0);
    return {
      id: scenario.id,
      name: scenario.name,
      baseline: scenario.baseline,
      rps: median(mine.map((s) => s.rps)),
      p50Ms: median(mine.map((s) => s.p50)),
      p99Ms: median(mine.map((s) => s.p99)),
      cpuUsPerReq: median(mine.map((s) => s.cpuUsPerReq)),
      rpsVsBaseline: ratio((s) => s.rps),
      cpuVsBaseline: ratio((s) => s.cpuUsPerReq),
      /** Server CPU per request above the baseline's, in the same round; median over rounds. */
      cpuOverBaselineUs: median(mine.map((s, i) => s.cpuUsPerReq - (base[i] ?? s).cpuUsPerReq)),
      io: scenario.io === true,
      dispatchUs: median(mine.map((s) => s.dispatchUs)),
      /** The route's own work over the bare route's, in the same windows: median over the pair rounds. */
      inAppOverBareUs:
        scenario.id === 'bare' ? 0 : median((pairs.get(scenario.id) ?? []).map((p) => p.mineUs - p.bareUs)),
      /** In-app time over the bare route's in the same window, median of the pair rounds (scale-free). */
      inAppVsBare:
        scenario.id === 'bare' ? 1 : median((pairs.get(scenario.id) ?? []).map((p) => p.mineUs / p.bareUs)),
      inAppPairs: pairs.get(scenario.id) ?? [],
      requestsServed: served,
      answered2xx: ok2xx,
      storeReads: reads,
      rounds: mine.map(({ reads: _, ...s }) => s),
    };
  });
}

async function childJson(args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: process.cwd() });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  children.delete(child);
  if (code !== 0) throw new Error(`${args.at(-1)} exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

type HttpRow = ReturnType<typeof summarize>[number];

/**
 * The share of a bare request's CPU spent in the app (main windows): scales an in-app ratio to CPU. Like every
 * ratio here, taken within each round (its in-app median over its CPU per request: one state of the machine)
 * and the median of those; a median in-app time over a median CPU would pair figures of different rounds.
 */
function inAppShareOf(http: HttpRow[]): number {
  const bare = http.find((r) => r.id === 'bare');
  return bare ? median(bare.rounds.map((s) => s.dispatchUs / s.cpuUsPerReq)) : Number.NaN;
}

/**
 * Redis commands per request of the Redis scenarios: the round trips their limiter sent, and what the server
 * ran (`INFO commandstats`, which counts the commands a script runs too).
 */
function redisLines(http: HttpRow[]): string[] {
  return http
    .filter((r) => r.id === 'limitRedis' || r.id === 'planRedis')
    .map((r) => {
      const per = (n: number | undefined) => ((n ?? Number.NaN) / r.requestsServed).toFixed(2);
      const ran = Object.entries(r.storeReads)
        .filter(([name]) => name.startsWith('redis:'))
        .map(([name, calls]) => `${name.slice(6).toUpperCase()} ${per(calls)}`)
        .join(', ');
      return `- ${r.name}: ${per(r.storeReads.redisSent)} Redis commands sent per request (round trips); the server ran, per request: ${ran || 'nothing'} (INFO commandstats; commands inside a script count there too).`;
    });
}
function toMarkdown(result: {
  date: string;
  machine: { node: string; cpus: string; loadAverageAtEnd: number[] };
  settings: {
    rounds: number;
    durationS: number;
    connections: number;
    floodGoodEvery: number;
    pairRounds: number;
    pairDurationS: number;
  };
  database: string | null;
  http: HttpRow[];
  memory: Record<string, unknown>;
  memoryPerKey: Record<string, unknown>;
  micro: Record<string, unknown>;
  dashboard: Record<string, unknown>;
  seconds: number;
}): string {
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
  const { http, memory, memoryPerKey, settings } = result;
  const row = (id: string) => http.find((r) => r.id === id);
  // The share of a bare request's CPU spent in the app (main windows): scales the in-app ratio to CPU.
  const inAppShare = inAppShareOf(http);
  // In-app figures only where the request does no I/O: then its in-app time is its own work.
  const inApp = (r: HttpRow) =>
    r.io
      ? '– | – | – | –'
      : `${fmt(r.dispatchUs, 1)} | ${fmt(r.inAppVsBare, 2)} | ${fmt(r.inAppOverBareUs, 1)} | ${fmt(1 + (r.inAppVsBare - 1) * inAppShare, 3)}`;
  const flood = row('unknown');
  const floodReads = flood?.storeReads ?? {};
  // Every 2xx of the flood is the good key (invented tokens get 401; the run stops on any other answer).
  const floodGood = flood ? flood.answered2xx : Number.NaN;
  const naive = row('naiveMongo');
  const naiveId = row('naiveMongoId');
  const mongoCached = row('mongoCached');
  const mongoCold = row('mongoCold');
  const coldStoreMs = mongoCold
    ? (mongoCold.storeReads.coldStoreUs ?? Number.NaN) /
      1000 /
      (mongoCold.storeReads.coldStoreReads ?? Number.NaN)
    : Number.NaN;

  type MicroRow = { id: string; name: string; opsPerSec: number; vsAnchor: number };
  const micro = (result.micro.results ?? []) as MicroRow[];
  const vs = (id: string) => micro.find((m) => m.id === id)?.vsAnchor ?? Number.NaN;
  const mem = memory as {
    tokens: number;
    seconds: number;
    storeReads: number;
    goodKeyHitRatio: number;
    before: { rssMB: number; heapUsedMB: number };
    after: { rssMB: number; heapUsedMB: number };
    maxRssMB: number;
  };

  return [
    '# Keyward benchmark',
    '',
    `${result.date} · Node ${result.machine.node} · ${result.machine.cpus} (shared with other work; load average at the end ${result.machine.loadAverageAtEnd.join(' / ')}) · whole run ${result.seconds} s`,
    '',
    `Reproduce: \`pnpm bench\` at the repository root (about 8 minutes, at most 12; FerretDB is built with Go on first use).`,
    'Server, load generator and database share one 2-core machine: compare ratios and CPU per request, not',
    'requests per second across machines.',
    '',
    `## HTTP (autocannon, ${settings.connections} connections, loopback; median of ${settings.rounds} interleaved rounds of ${settings.durationS} s)`,
    '',
    "CPU µs/req is the server process's own `process.cpuUsage()` over the requests it received in the",
    'measurement window; "over bare" is that minus the bare route\'s in the same round: what authentication',
    `costs. Ratios are medians of per-round ratios.${result.database ? ` Database: ${result.database}; its own CPU is not in the server's figure.` : ''}`,
    '',
    "On this shared machine a window's CPU per request swings by ±25 % from round to round (the bare route",
    'alone), far more than the few µs authentication adds. So the server also times each request in the app:',
    'from its dispatch to the app until `res.end()` (routing, middleware, route or refusal, serialization; not',
    'HTTP parsing or the socket write, which every route shares; each scenario is an app of its own with one',
    'route). "In the app µs/req" is its median in the windows above. The pairs come from separate windows in',
    "which every connection alternates the scenario's requests with the bare route's, request by request",
    `(${settings.pairRounds} rounds of ${settings.pairDurationS} s), so both see the same state of the machine: "in the app vs bare" is the median of`,
    'the per-round ratios of their in-app medians (scale-free: a busier machine slows both), "over bare" the median',
    "difference. The last column turns the ratio into CPU: 1 + (ratio − 1) × the share of a bare request's CPU",
    `spent in the app (${fmt(inAppShare * 100, 0)} % here), the ratio the window figure would show without its noise. Routes that wait for`,
    'a database or Redis show "–" there (their in-app time is mostly waiting).',
    '',
    '| scenario | req/s | vs bare | p50 ms | p99 ms | server CPU µs/req | CPU vs bare | CPU over bare µs | in the app µs/req | in the app vs bare (pairs) | in the app over bare µs (pairs) | CPU vs bare, from the pairs |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...http.map(
      (r) =>
        `| ${r.name} | ${int(r.rps)} | ${fmt(r.rpsVsBaseline, 2)} | ${fmt(r.p50Ms, 1)} | ${fmt(r.p99Ms, 1)} | ${fmt(r.cpuUsPerReq, 1)} | ${fmt(r.cpuVsBaseline, 2)} | ${fmt(r.cpuOverBaselineUs, 1)} | ${inApp(r)} |`,
    ),
    '',
    ...(naive && mongoCached
      ? [
          `- Keyward cached vs the naive per-request \`findOne\`, same FerretDB: **${fmt(mongoCached.rps / naive.rps, 1)}×** the requests per second, ` +
            `**${fmt(naive.cpuUsPerReq / mongoCached.cpuUsPerReq, 1)}×** less server CPU per request; p99 ${fmt(naive.p99Ms, 1)} → ${fmt(mongoCached.p99Ms, 1)} ms. ` +
            `Store reads over all rounds: naive ${int(naive.storeReads.naiveReads ?? Number.NaN)} for ${int(naive.requestsServed)} requests; ` +
            `Keyward ${int(mongoCached.storeReads.mongoStoreReads ?? Number.NaN)} for ${int(mongoCached.requestsServed)}.`,
          ...(naiveId
            ? [
                `- Against the naive lookup by \`_id\` (an indexed point read on FerretDB too): **${fmt(mongoCached.rps / naiveId.rps, 1)}×** the requests per second, ` +
                  `**${fmt(naiveId.cpuUsPerReq / mongoCached.cpuUsPerReq, 1)}×** less server CPU per request; p99 ${fmt(naiveId.p99Ms, 1)} → ${fmt(mongoCached.p99Ms, 1)} ms.`,
              ]
            : []),
        ]
      : []),
    ...(mongoCold
      ? [
          `- Cold path (cache off, FerretDB): p50 ${fmt(mongoCold.p50Ms, 1)} ms, p99 ${fmt(mongoCold.p99Ms, 1)} ms; ` +
            `${int(mongoCold.storeReads.coldStoreReads ?? Number.NaN)} store reads for ${int(mongoCold.requestsServed)} requests, ` +
            `each ${fmt(coldStoreMs, 2)} ms on average inside the store call (driver + database); server CPU ${fmt(mongoCold.cpuUsPerReq, 1)} µs/req, ` +
            `of which ${fmt(mongoCold.cpuOverBaselineUs, 1)} µs over a bare route — the share outside the database is that CPU against the request's latency.`,
        ]
      : []),
    ...[row('limitMemory'), row('limitRedis'), row('planMemory'), row('planRedis')].flatMap((limited) => {
      const hot = row('hot');
      if (!limited || !hot) return [];
      // Same round, same machine state: the median of per-round differences against apiKeyAuth without limits.
      const over = median(limited.rounds.map((s, i) => s.cpuUsPerReq - (hot.rounds[i] ?? s).cpuUsPerReq));
      return [
        `- ${limited.name}: ${fmt(over, 1)} µs of server CPU per request over apiKeyAuth without limits (median of per-round differences).`,
      ];
    }),
    ...redisLines(http),
    ...(() => {
      const credits = row('credits');
      if (!credits) return [];
      const reads = credits.storeReads.creditReads ?? Number.NaN;
      const inserts = credits.storeReads.creditInserts ?? Number.NaN;
      return [
        `- Credits: ${int(reads)} ledger reads and ${int(inserts)} ledger inserts for ${int(credits.requestsServed)} credit-spending requests over all rounds: ` +
          `${fmt((10_000 * reads) / credits.requestsServed, 2)} reads per 10,000 requests (a lease is one read and one insert; the rest are spent from leased blocks in memory).`,
      ];
    })(),
    ...(flood
      ? [
          `- Unknown flood: ${int(floodReads.floodStoreReads ?? Number.NaN)} store reads for ${int(flood.requestsServed)} requests over all rounds ` +
            `(one per invented token, as it must be); the good key sent alongside (${int(floodGood)} requests, all 200) had ` +
            `${int(floodReads.floodGoodKeyReads ?? Number.NaN)} store read(s): hit ratio ${fmt(100 * (1 - (floodReads.floodGoodKeyReads ?? 0) / floodGood), 2)} %.`,
        ]
      : []),
    '',
    `## Memory: ${int(mem.tokens)} distinct unknown (checksum-valid) tokens through \`keyward.verify\`, in-process`,
    '',
    '| | RSS MB | heap used MB |',
    '|---|---:|---:|',
    `| before (after GC) | ${fmt(mem.before.rssMB, 1)} | ${fmt(mem.before.heapUsedMB, 1)} |`,
    `| after (after GC) | ${fmt(mem.after.rssMB, 1)} | ${fmt(mem.after.heapUsedMB, 1)} |`,
    '',
    `${fmt(mem.seconds, 1)} s (${int(mem.tokens / mem.seconds)} verifies/s, each a store read: ${int(mem.storeReads)}); peak RSS ${fmt(mem.maxRssMB, 1)} MB; ` +
      `a good key checked every 1,000 tokens stayed cached: hit ratio ${fmt(100 * mem.goodKeyHitRatio, 2)} %.`,
    '',
    ...(() => {
      const k = memoryPerKey as {
        keys: number;
        plainBytesPerKey: number;
        meteredBytesPerKey: number;
        ledgerBytesPerKey: number;
        requestSeconds: number;
      };
      if (typeof k?.keys !== 'number') return [];
      return [
        `## Memory per active key: ${int(k.keys)} keys, one request each through \`apiKeyAuth\`, in-process`,
        '',
        'Heap (with array buffers) after two full GCs, after the requests minus before, per key: the verify cache entry,',
        "last-used tracking and the usage counters before their flush, and for a key on a plan with a limit and credits the limit's",
        "counter and the credit meter's leased block.",
        '',
        '| key | bytes per active key |',
        '|---|---:|',
        `| cached key, no policy | ${int(k.plainBytesPerKey)} |`,
        `| with a limit and credits (memory limiter) | ${int(k.meteredBytesPerKey - k.ledgerBytesPerKey)} |`,
        `| … and the memory store's credit ledger entry (in the database with \`MongoKeyStore\`) | ${int(k.ledgerBytesPerKey)} |`,
        '',
        `${fmt(k.requestSeconds, 1)} s of requests.`,
        '',
      ];
    })(),
    `## Micro-benchmarks (one process; ${String(result.micro.rounds)} interleaved rounds of ${String(result.micro.sliceMs)} ms slices)`,
    '',
    "ops/s per second of the process's CPU time (time the shared machine gives to other work does not count), median",
    'of the rounds. "vs sha256 + LRU get" is the median, over the rounds, of the ratio to that anchor measured in the',
    "slice beside it: the machine's speed drifts by tens of percent over seconds, so only paired slices compare.",
    '',
    '| operation | ops/s | µs/op | vs sha256 + LRU get |',
    '|---|---:|---:|---:|',
    ...micro.map(
      (m) => `| ${m.name} | ${int(m.opsPerSec)} | ${fmt(1e6 / m.opsPerSec, 2)} | ${fmt(m.vsAnchor, 2)} |`,
    ),
    '',
    `A cache hit costs ${fmt(1 / vs('verifyHit'), 2)}× one sha256 + LRU get through \`verify()\`` +
      (Number.isFinite(vs('verifyCachedHit'))
        ? ` and ${fmt(1 / vs('verifyCachedHit'), 2)}× through \`verifyCached()\``
        : '') +
      ' (the conventions\' target: "about one hash of the token").' +
      ` \`verify()\` returns a promise the caller awaits: against the same anchor inside an awaited async function` +
      ` it runs at ${fmt(vs('verifyHit') / vs('anchorHashLruAsync'), 2)}× its rate.`,
    '',
    ...dashboardMarkdown(result.dashboard),
  ].join('\n');
}

/** The dashboard's time to usable (src/dashboard.ts), unbundled and bundled. */
function dashboardMarkdown(dashboard: Record<string, unknown>): string[] {
  type Row = { msToUsable: number; requests: number; kB: number; runsMs: number[] };
  const { unbundled, bundled, rounds, skipped } = dashboard as {
    unbundled?: Row;
    bundled?: Row;
    rounds?: number;
    skipped?: string;
  };
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
  const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
  const title = '## Dashboard: time to usable on slow 3G (2 s latency, 400 kbit/s) with a 4× CPU slowdown';
  if (!unbundled || !bundled) return [title, '', `Not measured: ${skipped ?? 'no result'}.`, ''];
  const row = (name: string, r: Row) =>
    `| ${name} | ${fmt(r.msToUsable / 1000, 1)} | ${r.runsMs.map((ms) => fmt(ms / 1000, 1)).join(', ')} | ${int(r.requests)} | ${fmt(r.kB, 1)} |`;
  return [
    title,
    '',
    `Cold load (cache disabled) until the rows show and "New API key" is enabled; median of ${String(rounds)} alternated runs. Requests and kB on the wire include the admin API's answers.`,
    '',
    '| files | s to usable | runs (s) | requests | kB |',
    '|---|---:|---:|---:|---:|',
    row('unbundled (one module per file)', unbundled),
    row('bundled (one minified module, hashed names)', bundled),
    '',
  ];
}

/** Puts the result (its headings one level down) between the markers of bench/README.md. */
function updateReadme(markdown: string): void {
  const url = new URL('../README.md', import.meta.url);
  const readme = readFileSync(url, 'utf8');
  const start = '<!-- latest:start -->';
  const end = '<!-- latest:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) return;
  const body = markdown
    .split('\n')
    .filter((line) => !line.startsWith('# '))
    .map((line) => (line.startsWith('#') ? `#${line}` : line))
    .join('\n')
    .trim();
  writeFileSync(url, `${readme.slice(0, from + start.length)}\n${body}\n${readme.slice(to)}`);
}

/** JSON as the repository's formatter (Biome, line width 110) writes it: short arrays of plain values on one line. */
function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`.replace(
    /^( *)(.*)\[\n((?:\1 {2}(?:-?[\d.e+-]+|"[^"\n]*"|true|false|null),?\n)+)\1\](,?)$/gm,
    (whole, indent: string, head: string, items: string, comma: string) => {
      const values = items.trim().split(/,?\n\s*/);
      const line = `${indent}${head}[${values.join(', ')}]${comma}`;
      return line.length <= 110 ? line : whole;
    },
  );
}
