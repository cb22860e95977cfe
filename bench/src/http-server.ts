// The server side of the HTTP benchmark, in its own process so the load generator does not share its event
// loop or its CPU account. Every scenario is an Express app of its own with one route, picked by the exact
// path (one Map read for every request alike), so no scenario pays for walking past other scenarios'
// routes. The server measures itself:
// GET /__cpu/start and GET /__cpu/stop bracket a measurement window, and /__cpu/stop answers with the
// process CPU time (`process.cpuUsage()`) spent in the window, the requests it received in it (the two
// control requests excluded) and how often each store was read. It also times each request's synchronous
// dispatch through the app (every middleware and the route, up to the response's write, when nothing is
// awaited): the part that differs between routes, without the HTTP parsing and socket work all routes share.
//
// Usage: node --import tsx src/http-server.ts [mongoUri]
// Prints one JSON line { port, tokens, mongo } once listening on loopback. Without a mongo URI the two
// FerretDB scenarios are left out (the profiler uses that). Exits on SIGTERM, and after 10 minutes anyway.
import { createHash, hash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, ServerResponse } from 'node:http';
import { createKeyward, type KeyStore, type Keyward, MemoryKeyStore } from '@keyward/core';
import { tokenType } from '@keyward/core/store';
import { createDemoApp } from '@keyward/demo';
import { apiKeyAuth, createKeyLimiter, keywardErrorHandler } from '@keyward/express';
import { createPassportStrategy } from '@keyward/express/passport';
import { MongoKeyStore } from '@keyward/mongo';
import express from 'express';
import mongoose from 'mongoose';
import passport from 'passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { type RedisReply, RedisStore } from 'rate-limit-redis';
import { startBenchRedis } from './redis.js';
import { BENCH_PEPPER, BENCH_SCOPES, badChecksumToken, ORG } from './tokens.js';

/** Keys in each database-backed collection, so lookups are not in a one-document collection. */
const SEEDED_KEYS = 100;
const READ = { scopes: ['snippets:read'] };

const mongoUri = process.argv[2];
const counters = {
  /** findByHash on the store of the unknown-token flood. */
  floodStoreReads: 0,
  /** …of which for the good key requested alongside the flood. */
  floodGoodKeyReads: 0,
  /** findByHash on the FerretDB store behind Keyward's cached scenario. */
  mongoStoreReads: 0,
  /** findOne on FerretDB by the naive passport-headerapikey strategy. */
  naiveReads: 0,
  /** findByHash on the FerretDB store behind Keyward with its cache off (the cold path)… */
  coldStoreReads: 0,
  /** …and the time they took, in µs (to tell the database's share of a cold request). */
  coldStoreUs: 0,
  /** Credit ledger reads (`readCredits`) behind the credits scenario… */
  creditReads: 0,
  /** …and its ledger inserts (leases and returns). */
  creditInserts: 0,
  /** Commands the Redis scenarios' limiters sent (round trips); set from the Redis client at each read. */
  redisSent: 0,
};

// --- Keyward on the memory store: the hot path, the Passport strategy, the cache switched off.
const memory = keyward(new MemoryKeyStore());
const hotToken = (await memory.createKey(ORG, { name: 'hot', type: 'secret' })).token;
const noCache = keyward(new MemoryKeyStore(), false);
// The same hot path with usage counting off (a store without `recordOutcomes`): its pair with `/hot` is
// what counting costs a cached key (docs/reference.md §9).
const uncountedStore = new MemoryKeyStore();
Object.assign(uncountedStore, { recordOutcomes: undefined });
const uncounted = keyward(uncountedStore);
const uncountedToken = (await uncounted.createKey(ORG, { name: 'uncounted', type: 'secret' })).token;
const noCacheToken = (await noCache.createKey(ORG, { name: 'no-cache', type: 'secret' })).token;
passport.use(createPassportStrategy(memory, READ));

// --- One limit on a key (docs/reference.md §6), never reached: counted in memory (the default limiter), and on a
// redis-server of our own through rate-limit-redis (left out when redis-server is not installed).
const limitedToken = (
  await memory.createKey(ORG, {
    name: 'limited',
    type: 'secret',
    limits: [{ limit: 1_000_000_000, windowSeconds: 3_600 }],
  })
).token;
// --- A plan of two windows (docs/reference.md §10), never reached, counted in memory; and a key with credits
// (a balance never spent out), its ledger on a memory store whose reads and inserts are counted.
const planned = createKeyward({
  store: new MemoryKeyStore(),
  ...BENCH_SCOPES,
  pepper: BENCH_PEPPER,
  plans: {
    bench: {
      limits: [
        { limit: 1_000_000_000, windowSeconds: 60 },
        { limit: 1_000_000_000, windowSeconds: 86_400 },
      ],
    },
  },
});
const plannedToken = (await planned.createKey(ORG, { name: 'planned', type: 'secret', plan: 'bench' })).token;
const creditStore = new MemoryKeyStore();
for (const method of ['readCredits', 'leaseCredits', 'returnCredits'] as const) {
  const original = creditStore[method].bind(creditStore) as (...args: unknown[]) => Promise<unknown>;
  Object.assign(creditStore, {
    [method]: (...args: unknown[]) => {
      if (method === 'readCredits') counters.creditReads++;
      else counters.creditInserts++;
      return original(...args);
    },
  });
}
const credited = keyward(creditStore);
const creditedKey = await credited.createKey(ORG, { name: 'credited', type: 'secret' });
await credited.setCredits(ORG, creditedKey.key.id, { remaining: 1_000_000_000_000 });
const creditedToken = creditedKey.token;
const redis = process.env.BENCH_NO_REDIS === '1' ? null : await startBenchRedis();
const redisLimiter = redis
  ? createKeyLimiter({
      store: () =>
        new RedisStore({
          sendCommand: (...args: string[]) => redis.sendCommand(args) as Promise<RedisReply>,
          prefix: 'kw-bench:',
        }),
    })
  : null;
// The plan of two windows on the limiter's own Redis counting: one script call per request for both windows.
const redisPlanLimiter = redis
  ? createKeyLimiter({
      redis: { sendCommand: (...args: string[]) => redis.sendCommand(args), prefix: 'kw-bench-plan:' },
    })
  : null;

// --- Floods: their own instance and a counted store, so reads can be attributed.
const floodStore = new MemoryKeyStore();
const flood = keyward(floodStore);
const floodGood = await flood.createKey(ORG, { name: 'good', type: 'secret' });
const floodGoodHash = (await floodStore.findById(ORG, floodGood.key.id))?.hash;
countReads(floodStore, (hash) => {
  counters.floodStoreReads++;
  if (hash === floodGoodHash) counters.floodGoodKeyReads++;
});

// --- What teams write by hand with passport-headerapikey: SHA-256 of the header and a Map lookup.
const handRolledToken = 'hand-rolled-0123456789abcdef0123456789abcdef';
const handRolledKeys = new Map([[sha256(handRolledToken), { id: 'k1', organizationId: ORG }]]);
passport.use(
  'hand-rolled',
  new HeaderAPIKeyStrategy({ header: 'Authorization', prefix: 'Bearer ' }, false, (apiKey, done) => {
    done(null, handRolledKeys.get(sha256(apiKey)) ?? false);
  }),
);

// --- FerretDB: the naive alternative (plaintext key, one findOne per request) and Keyward on MongoKeyStore.
let mongoTokens: { naive: string; keyward: string } | null = null;
const connections: mongoose.Connection[] = [];
let mongoKeyward: Keyward | null = null;
let coldKeyward: Keyward | null = null;
let mongoStore: MongoKeyStore | null = null;
if (mongoUri) {
  const naiveConnection = await mongoose.createConnection(`${mongoUri}kw_bench_naive`).asPromise();
  const keywardConnection = await mongoose.createConnection(`${mongoUri}kw_bench_keyward`).asPromise();
  connections.push(naiveConnection, keywardConnection);

  // The naive model: the key in plaintext with a unique index, looked up with findOne({ key }).
  const ApiKey = naiveConnection.model(
    'ApiKey',
    new mongoose.Schema({ key: { type: String, unique: true }, organizationId: String, scopes: [String] }),
  );
  await ApiKey.deleteMany({});
  await ApiKey.init();
  const naiveKeys = Array.from({ length: SEEDED_KEYS }, (_, i) => ({
    key: `naive-${i}-${sha256(`naive-${i}`)}`,
    organizationId: ORG,
    scopes: ['snippets:read'],
  }));
  await ApiKey.insertMany(naiveKeys);
  passport.use(
    'naive-mongo',
    new HeaderAPIKeyStrategy({ header: 'Authorization', prefix: 'Bearer ' }, false, (apiKey, done) => {
      counters.naiveReads++;
      // .lean(): the naive alternative at its best (no document hydration).
      ApiKey.findOne({ key: apiKey })
        .lean()
        .then((doc) => done(null, doc ?? false), done);
    }),
  );

  // The same with the key as _id, the one filter FerretDB 1.24 pushes down to SQLite (on MongoDB both use
  // an index): so the comparison does not rest on FerretDB's full scans alone.
  const ApiKeyById = naiveConnection.model(
    'ApiKeyById',
    new mongoose.Schema({ _id: String, organizationId: String, scopes: [String] }),
  );
  await ApiKeyById.deleteMany({});
  await ApiKeyById.insertMany(naiveKeys.map(({ key, ...rest }) => ({ _id: key, ...rest })));
  passport.use(
    'naive-mongo-id',
    new HeaderAPIKeyStrategy({ header: 'Authorization', prefix: 'Bearer ' }, false, (apiKey, done) => {
      counters.naiveReads++;
      ApiKeyById.findOne({ _id: apiKey })
        .lean()
        .then((doc) => done(null, doc ?? false), done);
    }),
  );

  await keywardConnection.dropDatabase();
  mongoStore = new MongoKeyStore({ connection: keywardConnection });
  await mongoStore.ensureIndexes();
  await mongoStore.feedReady();
  mongoKeyward = keyward(mongoStore);
  let keywardToken = '';
  for (let i = 0; i < SEEDED_KEYS; i++) {
    keywardToken = (await mongoKeyward.createKey(ORG, { name: `k${i}`, type: 'secret' })).token;
  }
  countReads(mongoStore, () => counters.mongoStoreReads++);
  // The cold path: the same keys through a store of its own with Keyward's cache off (one read per request).
  const coldStore = new MongoKeyStore({ connection: keywardConnection });
  const coldRead = coldStore.findByHash.bind(coldStore);
  coldStore.findByHash = async (hash) => {
    const started = performance.now();
    try {
      return await coldRead(hash);
    } finally {
      counters.coldStoreReads++;
      counters.coldStoreUs += Math.round((performance.now() - started) * 1000);
    }
  };
  coldKeyward = keyward(coldStore, false);
  mongoTokens = { naive: naiveKeys[SEEDED_KEYS - 1]?.key ?? '', keyward: keywardToken };
}

/** The app of each scenario path; the control routes are in `app`. */
const apps = new Map<string, express.Express>();
function newApp(): express.Express {
  const made = express();
  made.disable('x-powered-by');
  made.disable('etag');
  return made;
}
/** A scenario: an app of its own whose one route is `path`. */
function route(path: string, ...handlers: express.RequestHandler[]): void {
  const own = newApp();
  own.get(path, ...handlers);
  own.use(keywardErrorHandler());
  apps.set(path, own);
}
const app = newApp();
const ok = (_req: express.Request, res: express.Response) => {
  res.json({ ok: true });
};

let window: {
  cpu: NodeJS.CpuUsage;
  at: number;
  counters: typeof counters;
  redisCalls: Record<string, number>;
} | null = null;
let received = 0;
/** Dispatch-to-`end()` times of the window's requests in µs, per scenario path (the first MAX_TIMED each). */
const MAX_TIMED = 200_000;
const timings = new Map<string, { us: Float64Array; count: number }>();
const DISPATCHED = Symbol('dispatched');
const end = ServerResponse.prototype.end;
ServerResponse.prototype.end = function timedEnd(this: ServerResponse, ...args: unknown[]) {
  const req = this.req as IncomingMessage & { [DISPATCHED]?: number };
  const at = req?.[DISPATCHED];
  if (at !== undefined && window !== null) {
    const elapsedUs = (performance.now() - at) * 1000;
    const path = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '';
    let timing = timings.get(path);
    if (timing === undefined && apps.has(path)) {
      timing = { us: new Float64Array(MAX_TIMED), count: 0 };
      timings.set(path, timing);
    }
    if (timing !== undefined && timing.count < MAX_TIMED) timing.us[timing.count++] = elapsedUs;
  }
  return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
} as typeof end;
app.get('/__cpu/start', async (_req, res) => {
  // Redis's command counts first (a round trip), so the window's CPU and requests start after it.
  const redisCalls = (await redis?.commandStats()) ?? {};
  counters.redisSent = redis?.sent ?? 0;
  received = 0;
  for (const timing of timings.values()) timing.count = 0;
  window = { cpu: process.cpuUsage(), at: performance.now(), counters: { ...counters }, redisCalls };
  // On the monotonic clock of V8's CPU profiles, so the profiler can leave out what came before.
  res.json({ ok: true, monotonicUs: Number(process.hrtime.bigint() / 1000n) });
});
app.get('/__cpu/stop', async (_req, res) => {
  const opened = window;
  if (!opened) {
    res.status(409).json({ error: 'not started' });
    return;
  }
  const cpu = process.cpuUsage(opened.cpu);
  const requests = received - 1; // this request itself
  counters.redisSent = redis?.sent ?? 0;
  const reads: Record<string, number> = Object.fromEntries(
    Object.entries(counters).map(([name, value]) => [
      name,
      value - opened.counters[name as keyof typeof counters],
    ]),
  );
  // What the Redis server ran in the window, per command (`redis:evalsha`, `redis:incr`…).
  for (const [command, calls] of Object.entries((await redis?.commandStats()) ?? {})) {
    const ran = calls - (opened.redisCalls[command] ?? 0);
    if (ran > 0) reads[`redis:${command}`] = ran;
  }
  // Medians: a request the OS preempted mid-dispatch (other work on the machine) must not weigh in.
  const inAppUs: Record<string, number> = {};
  for (const [path, { us, count }] of timings) {
    if (count > 0) inAppUs[path] = us.subarray(0, count).sort()[Math.floor(count / 2)] as number;
  }
  res.json({ ...cpu, wallMs: performance.now() - opened.at, requests, reads, inAppUs });
  window = null;
});

route('/bare', ok);
// The floor of any middleware: one more Express layer that does nothing (same request headers as /hot).
route(
  '/noop',
  function noop(_req, _res, next) {
    next();
  },
  ok,
);
route('/hot', apiKeyAuth(memory, READ), ok);
route('/hot-uncounted', apiKeyAuth(uncounted, READ), ok);
route('/limit-memory', apiKeyAuth(memory, READ), ok);
route('/plan-memory', apiKeyAuth(planned, READ), ok);
route('/credits', apiKeyAuth(credited, READ), ok);
// The pieces of apiKeyAuth's cost on a cached key, each alone in a middleware (run.ts: floor… scenarios).
const piece =
  (work: (req: express.Request) => unknown): express.RequestHandler =>
  (req, _res, next) => {
    if (work(req) === PIECE_NEVER) throw new Error('unreachable');
    next();
  };
const PIECE_NEVER = Symbol('never');
const pieceSecret = randomBytes(8).toString('base64url');
const FLOOR_KEY = Object.freeze({ id: 'floor' });
route(
  '/floor-header',
  piece((req) => req.headers.authorization),
  ok,
);
route(
  '/floor-token-type',
  piece(() => tokenType(hotToken, 'kw')),
  ok,
);
route(
  '/floor-hash',
  piece(() => hash('sha256', pieceSecret + hotToken, 'binary')),
  ok,
);
route(
  '/floor-verify',
  piece(() => memory.verifyCached(hotToken)),
  ok,
);
// What any 401 costs: the garbage flood's answer (status, challenge, JSON body) without Keyward.
route('/floor-refusal', (_req, res) => {
  res.status(401);
  res.setHeader('WWW-Authenticate', 'Bearer realm="api", error="invalid_token"');
  res.json({ error: { code: 'invalid_api_key', message: 'The API key is invalid.' } });
});
route(
  '/floor-api-key',
  piece((req) => {
    req.apiKey = FLOOR_KEY as unknown as typeof req.apiKey;
  }),
  ok,
);
if (redisLimiter) route('/limit-redis', apiKeyAuth(memory, { ...READ, limiter: redisLimiter }), ok);
if (redisPlanLimiter) route('/plan-redis', apiKeyAuth(planned, { ...READ, limiter: redisPlanLimiter }), ok);
route('/passport', passport.authenticate('keyward', { session: false }), ok);
// The floor of any Passport strategy: one whose authenticate() only calls success() with a fixed user.
const FLOOR_USER = Object.freeze({ id: 'floor' });
passport.use('floor', {
  name: 'floor',
  authenticate(this: { success(user: object): void }) {
    this.success(FLOOR_USER);
  },
} as unknown as passport.Strategy);
route('/passport-floor', passport.authenticate('floor', { session: false }), ok);
route('/no-cache', apiKeyAuth(noCache, READ), ok);
route('/hand-rolled', passport.authenticate('hand-rolled', { session: false }), ok);
// The invalid-key throttle off: these scenarios measure what a flood costs verify and its caches (with the
// throttle on, one address past 50 refused keys gets 429 before any of that).
route('/flood', apiKeyAuth(flood, { ...READ, limiter: createKeyLimiter({ invalidKeyThrottle: false }) }), ok);
// The demo server of docs/reference.md §4 as it ships (every middleware of its app): its /healthz beside its
// /v1/whoami with a cached secret key, so the pair shows what the demo's key-protected route costs.
const demo = createDemoApp({ store: new MemoryKeyStore(), pepper: BENCH_PEPPER, log: () => {} });
const demoToken = (await demo.keyward.createKey(ORG, { name: 'Demo bench', type: 'secret' })).token;
await demo.keyward.verify(demoToken);
apps.set('/healthz', demo.app);
apps.set('/v1/whoami', demo.app);
if (mongoKeyward) {
  route('/naive-mongo', passport.authenticate('naive-mongo', { session: false }), ok);
  route('/naive-mongo-id', passport.authenticate('naive-mongo-id', { session: false }), ok);
  route('/mongo-cached', apiKeyAuth(mongoKeyward, READ), ok);
  if (coldKeyward) route('/mongo-cold', apiKeyAuth(coldKeyward, READ), ok);
}

const server = createServer();
server.on('request', (req, res) => {
  // Counted first: /__cpu/start then resets the count it was counted in.
  received++;
  const target = apps.get(req.url ?? '') ?? app;
  (req as IncomingMessage & { [DISPATCHED]?: number })[DISPATCHED] = performance.now();
  target(req, res);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const tokens = {
    hot: hotToken,
    uncounted: uncountedToken,
    limited: limitedToken,
    planned: plannedToken,
    credited: creditedToken,
    noCache: noCacheToken,
    handRolled: handRolledToken,
    floodGood: floodGood.token,
    garbage: badChecksumToken(hotToken),
    demo: demoToken,
    ...(mongoTokens ? { naiveMongo: mongoTokens.naive, mongoCached: mongoTokens.keyward } : {}),
  };
  process.stdout.write(
    `${JSON.stringify({ port, tokens, mongo: Boolean(mongoKeyward), redis: Boolean(redisLimiter), pid: process.pid })}\n`,
  );
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  server.close();
  await Promise.allSettled([
    memory.close(),
    noCache.close(),
    flood.close(),
    planned.close(),
    credited.close(),
    mongoKeyward?.close(),
  ]);
  await mongoStore?.close().catch(() => {});
  await redis?.stop().catch(() => {});
  await Promise.allSettled(connections.map((c) => c.close()));
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
// Never outlive the benchmark that started us.
setTimeout(() => process.exit(0), 10 * 60_000).unref();

function keyward(store: KeyStore, cache?: false): Keyward {
  return createKeyward({
    store,
    ...BENCH_SCOPES,
    pepper: BENCH_PEPPER,
    ...(cache === false ? { cache } : {}),
  });
}

/** Counts `findByHash` calls on `store` without changing what they return. */
function countReads(store: KeyStore, count: (hash: string) => void): void {
  const findByHash = store.findByHash.bind(store);
  store.findByHash = (hash) => {
    count(hash);
    return findByHash(hash);
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
