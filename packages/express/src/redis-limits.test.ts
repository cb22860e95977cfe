import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CreateKeyInput, createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { redisClient, redisRequirement, startRedis } from '@keyward/test-redis';
import express5 from 'express5';
import { type RedisReply, RedisStore } from 'rate-limit-redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { createKeyLimiter, type KeyLimiter, type KeyLimiterOptions } from './key-limiter.js';
import { ORG } from './test-fixtures.js';

// Skipped only outside CI on a machine without redis-server (the suite's name says why); in CI (`CI=true`,
// `.ci/run` installs it) a missing server fails `startRedis` with a message saying how to install it.
const redisNeeded = redisRequirement();

type Redis = Awaited<ReturnType<typeof startRedis>>;
type Client = Awaited<ReturnType<typeof redisClient>>;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Polls `ready` every 100 ms for at most `boundMs` (a generous bound, printed; never a timed assertion). */
async function eventually(what: string, boundMs: number, ready: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > boundMs) throw new Error(`${what}: not within ${boundMs} ms`);
    await sleep(100);
  }
  console.info(`${what}: after ${Date.now() - started} ms (bound ${boundMs} ms)`);
}

/** How the limiters count on Redis: the `redis` option (one script call per request) or rate-limit-redis stores. */
type Counting = 'redis option' | 'RedisStore';

/** The counting options of one instance's limiter on `client`, every counter under `prefix`. */
function countingOn(counting: Counting, client: Client, prefix: string): KeyLimiterOptions {
  const sendCommand = (...args: string[]) => client.sendCommand(args) as Promise<RedisReply>;
  return counting === 'redis option'
    ? { redis: { sendCommand, prefix } }
    : { store: () => new RedisStore({ sendCommand, prefix }) };
}

/** An app serving `GET /r` behind `apiKeyAuth` with `limiter`, and how often its route ran. */
function limitedApp(keyward: Keyward, limiter: KeyLimiter) {
  const app = express5();
  let runs = 0;
  app.get('/r', apiKeyAuth(keyward, { limiter }), (_req, res) => {
    runs++;
    res.json({ ok: true });
  });
  return { keyward, app, runs: () => runs };
}

describe.skipIf(!redisNeeded.run).each<Counting>(['redis option', 'RedisStore'])(
  `two app instances sharing a real Redis (redis-server on a loopback port), counting with the %s${redisNeeded.run ? '' : ` (skipped: ${redisNeeded.reason})`}`,
  (counting) => {
    let redis: Redis;
    const clients: Client[] = [];

    beforeAll(async () => {
      redis = await startRedis();
    }, 30_000);

    afterAll(async () => {
      for (const client of clients) client.destroy();
      await redis?.stop();
    });

    /**
     * Two Keyward services on one key store (as two processes on one database), each with its own Redis
     * client and limiter on one Redis, each serving `GET /r` behind `apiKeyAuth`.
     */
    async function twoInstances(onStoreError: ['open' | 'closed', 'open' | 'closed'] = ['open', 'open']) {
      const store = new MemoryKeyStore();
      const prefix = `kw-test-${randomUUID()}:`;
      const instances = await Promise.all(
        onStoreError.map(async (mode) => {
          const keyward = createKeyward({
            store,
            pepper: 'redis-test-pepper-0123456789abcdef',
            scopes: ['snippets:read'],
            publicScopes: ['snippets:read'],
          });
          const client = await redisClient(redis.port);
          clients.push(client);
          const limiter = createKeyLimiter({
            ...countingOn(counting, client, prefix),
            onStoreError: mode,
            // Above the default 200 ms: on a loaded shared 2-core machine a healthy Redis round trip can take
            // longer, and a timed-out count would be admitted uncounted (the freeze test needs only a bound).
            timeoutMs: 1000,
          });
          return limitedApp(keyward, limiter);
        }),
      );
      const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
      const key = async (input: Partial<CreateKeyInput>) =>
        a.keyward.createKey(ORG, { name: 'Shared', type: 'public', ...input });
      return { a, b, key };
    }

    it('admits exactly limit of 3 x limit requests spread over both instances; the rest get 429 with headers', async () => {
      const { a, b, key } = await twoInstances();
      const { token } = await key({ limits: [{ limit: 5, windowSeconds: 30 }] });
      const answers = await Promise.all(
        Array.from({ length: 15 }, (_, i) =>
          request((i % 2 ? a : b).app)
            .get('/r')
            .set(bearer(token)),
        ),
      );
      const admitted = answers.filter((r) => r.status === 200);
      const refused = answers.filter((r) => r.status === 429);
      expect(admitted).toHaveLength(5);
      expect(refused).toHaveLength(10);
      expect(a.runs() + b.runs()).toBe(5);
      // Each admitted request saw a different count: 4, 3, 2, 1, 0 remaining.
      const remaining = admitted
        .map((r) => Number(/; r=(\d+);/.exec(r.headers.ratelimit ?? '')?.[1]))
        .sort((x, y) => x - y);
      expect(remaining).toEqual([0, 1, 2, 3, 4]);
      for (const r of [...admitted, ...refused]) {
        expect(r.headers['ratelimit-policy']).toBe('"5-in-30s"; q=5; w=30');
      }
      for (const r of refused) {
        expect(r.body.error.code).toBe('rate_limited');
        const retryAfter = Number(r.headers['retry-after']);
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(30);
        expect(r.headers.ratelimit).toBe(`"5-in-30s"; r=0; t=${retryAfter}`);
      }
    });

    it('starts a new window when the old one ends, on both instances', { timeout: 20_000 }, async () => {
      const { a, b, key } = await twoInstances();
      // 3 s: each burst (a few ms of loopback requests) fits well inside one window even on a loaded machine.
      const { token } = await key({ limits: [{ limit: 2, windowSeconds: 3 }] });
      const burst = async (n: number) => {
        const answers = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            request((i % 2 ? a : b).app)
              .get('/r')
              .set(bearer(token)),
          ),
        );
        return answers.filter((r) => r.status === 200).length;
      };
      expect(await burst(6)).toBe(2);
      // The next admitted request opens the next window (Redis expires the counter with the window).
      await eventually('a request is admitted again after the 3 s window', 9_000, async () => {
        const res = await request(a.app).get('/r').set(bearer(token));
        return res.status === 200;
      });
      expect(await burst(5)).toBe(1);
    });

    it('counts two keys of one owner on one count across both instances (per: owner): exactly the limit admitted', async () => {
      const { a, b, key } = await twoInstances();
      const owner = { type: 'service' as const, id: 'billing' };
      const limits = [{ limit: 6, windowSeconds: 60, per: 'owner' as const }];
      const first = await key({ owner, limits });
      const second = await key({ owner, limits });
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          request((i % 2 ? a : b).app)
            .get('/r')
            .set(bearer(i % 4 < 2 ? first.token : second.token)),
        ),
      );
      expect(answers.filter((r) => r.status === 200)).toHaveLength(6);
      expect(answers.filter((r) => r.status === 429)).toHaveLength(10);
      expect(a.runs() + b.runs()).toBe(6);
    });

    it('counts a rolled key and its successor together', async () => {
      const { a, b, key } = await twoInstances();
      const old = await key({ limits: [{ limit: 4, windowSeconds: 60 }] });
      for (let i = 0; i < 2; i++)
        expect((await request(a.app).get('/r').set(bearer(old.token))).status).toBe(200);
      const rolled = await a.keyward.rollKey(ORG, old.key.id);
      for (let i = 0; i < 2; i++) {
        expect((await request(b.app).get('/r').set(bearer(rolled.token))).status).toBe(200);
      }
      const oldAgain = await request(a.app).get('/r').set(bearer(old.token));
      const newAgain = await request(b.app).get('/r').set(bearer(rolled.token));
      expect([oldAgain.status, newAgain.status]).toEqual([429, 429]);
      expect(oldAgain.headers.sunset).toBeDefined();
    });

    it('fails open (open instance) or with 503 (closed instance) while Redis is down, and counts again when it is back', async () => {
      const { a, b, key } = await twoInstances(['open', 'closed']);
      const { token } = await key({ limits: [{ limit: 3, windowSeconds: 60 }] });
      expect((await request(a.app).get('/r').set(bearer(token))).status).toBe(200);
      expect((await request(b.app).get('/r').set(bearer(token))).status).toBe(200);
      await redis.stop();
      try {
        for (let i = 0; i < 5; i++) {
          const open = await request(a.app).get('/r').set(bearer(token));
          expect(open.status).toBe(200);
          expect(open.headers.ratelimit).toBeUndefined();
          const closed = await request(b.app).get('/r').set(bearer(token));
          expect(closed.status).toBe(503);
          expect(closed.body.error.code).toBe('key_store_unavailable');
        }
      } finally {
        await redis.start();
      }
      // Back: both count again (a restarted Redis without persistence starts from zero).
      let first = '';
      await eventually(
        'counting resumes on the fail-closed instance after Redis restarts',
        10_000,
        async () => {
          const res = await request(b.app).get('/r').set(bearer(token));
          first = res.headers.ratelimit ?? '';
          return res.status === 200;
        },
      );
      expect(first).toMatch(/^"3-in-60s"; r=2; t=\d+$/);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (
            await request((i % 2 ? a : b).app)
              .get('/r')
              .set(bearer(token))
          ).status,
        );
      }
      expect(statuses).toEqual([200, 200, 429, 429]);
    }, 30_000);

    it('answers every request while Redis is frozen (SIGSTOP): admitted uncounted (open) or 503 (closed), within the counting timeout', async () => {
      const { a, b, key } = await twoInstances(['open', 'closed']);
      const { token } = await key({ limits: [{ limit: 1000, windowSeconds: 60 }] });
      expect((await request(a.app).get('/r').set(bearer(token))).status).toBe(200);
      const before = a.runs() + b.runs();
      // Mid-traffic: requests already in flight when the server stops answering.
      const inFlight = Array.from({ length: 10 }, (_, i) =>
        request((i % 2 ? a : b).app)
          .get('/r')
          .set(bearer(token)),
      );
      redis.freeze();
      try {
        const started = Date.now();
        const frozen = await Promise.all([
          ...inFlight,
          ...Array.from({ length: 10 }, (_, i) =>
            request((i % 2 ? a : b).app)
              .get('/r')
              .set(bearer(token)),
          ),
        ]);
        const took = Date.now() - started;
        // Generous bound (the timeout is 200 ms; a stall without it lasts as long as the freeze): the
        // point is that every request completes while Redis stays frozen.
        console.info(`20 requests answered in ${took} ms with Redis frozen`);
        expect(took).toBeLessThan(10_000);
        for (const [i, res] of frozen.entries()) {
          const open = i % 2 === 1; // odd requests went to a (open), even ones to b (closed)
          if (open) expect(res.status).toBe(200);
          // An in-flight request may have been counted before the freeze: 200 or 503 on the closed one.
          else if (i >= 10) {
            expect(res.status).toBe(503);
            expect(res.body.error.code).toBe('key_store_unavailable');
          } else expect([200, 503]).toContain(res.status);
        }
        expect(a.runs() + b.runs() - before).toBeGreaterThanOrEqual(10);
      } finally {
        redis.thaw();
      }
      await eventually('counting resumes after Redis is thawed', 10_000, async () => {
        const res = await request(b.app).get('/r').set(bearer(token));
        return res.status === 200 && res.headers.ratelimit !== undefined;
      });
    }, 30_000);

    it('throttles an address over 50 refused keys counted by both instances together', async () => {
      const { a, b, key } = await twoInstances();
      const { token } = await key({});
      const invalid = () => `kw_pk_${randomUUID().replaceAll('-', '').padEnd(38, 'x').slice(0, 38)}`;
      for (let i = 0; i < 25; i++) {
        expect((await request(a.app).get('/r').set(bearer(invalid()))).body.error.code).toBe(
          'invalid_api_key',
        );
        expect((await request(b.app).get('/r').set(bearer(invalid()))).body.error.code).toBe(
          'invalid_api_key',
        );
      }
      // B counted the 50th and throttles at once; A learns it from the shared count at its next refusal.
      expect((await request(b.app).get('/r').set(bearer(token))).body.error.code).toBe(
        'too_many_invalid_keys',
      );
      const learned = await request(a.app).get('/r').set(bearer(invalid()));
      expect(learned.status).toBe(429);
      expect(learned.body.error.code).toBe('too_many_invalid_keys');
      expect((await request(a.app).get('/r').set(bearer(token))).status).toBe(429);
    });
  },
);

/** Calls per command from Redis's `INFO commandstats` (commands a script runs are counted too). */
async function commandCalls(client: Client): Promise<Record<string, number>> {
  const info = String(await client.sendCommand(['INFO', 'commandstats']));
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls[match[1] as string] = Number(match[2]);
  }
  return calls;
}

/** `after - before` per command, commands that did not change left out. */
function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([command, calls]) => [command, calls - (before[command] ?? 0)] as const)
      .filter(([, calls]) => calls !== 0),
  );
}

describe.skipIf(!redisNeeded.run)(
  `the redis option: one script call per request whatever the windows${redisNeeded.run ? '' : ` (skipped: ${redisNeeded.reason})`}`,
  () => {
    let redis: Redis;
    let admin: Client;
    const clients: Client[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      admin = await redisClient(redis.port);
    }, 30_000);

    afterAll(async () => {
      admin?.destroy();
      for (const client of clients) client.destroy();
      await redis?.stop();
    });

    /**
     * Two instances on one key store and one Redis, their limiters on the `redis` option; every command each
     * instance sends is recorded. A plan `two` of two windows (short: 5 per 60 s, long: 100 per day).
     */
    async function twoInstances(onStoreError: 'open' | 'closed' = 'open') {
      const store = new MemoryKeyStore();
      const prefix = `kw-script-${randomUUID()}:`;
      const sent: string[][] = [];
      const instances = await Promise.all(
        [0, 1].map(async () => {
          const keyward = createKeyward({
            store,
            pepper: 'redis-test-pepper-0123456789abcdef',
            scopes: ['snippets:read'],
            plans: {
              two: {
                limits: [
                  { limit: 5, windowSeconds: 60 },
                  { limit: 100, windowSeconds: 86_400 },
                ],
              },
            },
          });
          const client = await redisClient(redis.port);
          clients.push(client);
          const limiter = createKeyLimiter({
            redis: {
              sendCommand: (...args: string[]) => {
                sent.push(args);
                return client.sendCommand(args);
              },
              prefix,
            },
            onStoreError,
            timeoutMs: 1000,
          });
          return limitedApp(keyward, limiter);
        }),
      );
      const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
      const planned = () => a.keyward.createKey(ORG, { name: 'Planned', type: 'secret', plan: 'two' });
      return { a, b, planned, sent, prefix };
    }

    it('counts both windows of a plan in exactly one EVALSHA per request, across two instances, and nothing else', async () => {
      const { a, b, planned, sent } = await twoInstances();
      const { key, token } = await planned();
      // The first call loads the script where the server lacks it (NOSCRIPT, then EVAL): not counted below.
      expect((await request(a.app).get('/r').set(bearer(token))).status).toBe(200);
      expect((await request(b.app).get('/r').set(bearer(token))).status).toBe(200);
      sent.length = 0;
      const before = await commandCalls(admin);
      const answers: number[] = [];
      for (let i = 0; i < 3; i++) {
        answers.push(
          (
            await request((i % 2 ? a : b).app)
              .get('/r')
              .set(bearer(token))
          ).status,
        );
      }
      const after = await commandCalls(admin);
      expect(answers).toEqual([200, 200, 200]);
      // What the instances sent: one script call per request, over both counters.
      expect(sent.map((args) => args[0])).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA']);
      for (const args of sent) expect(args[2]).toBe('2');
      // What the server ran: the 3 script calls, two increments each (one per window), and the INFO itself.
      const ran = callsBetween(before, after);
      expect(ran.evalsha).toBe(3);
      expect(ran.incr).toBe(6);
      expect(ran.eval).toBeUndefined();
      expect(ran.decr).toBeUndefined();
      // Never a token or hash in a counter's name: the key's lineage (its id) names it.
      for (const args of sent) for (const arg of args) expect(arg).not.toContain(token);
      expect(sent[0]?.slice(3, 5).join(' ')).toContain(key.id);
    });

    it('admits exactly the shorter window of 30 concurrent requests over two instances, and gives the refused back to the longer one', async () => {
      const { a, b, planned, sent, prefix } = await twoInstances();
      const { token } = await planned();
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          request((i % 2 ? a : b).app)
            .get('/r')
            .set(bearer(token)),
        ),
      );
      expect(answers.filter((r) => r.status === 200)).toHaveLength(5);
      expect(answers.filter((r) => r.status === 429)).toHaveLength(25);
      expect(a.runs() + b.runs()).toBe(5);
      // One call per request (the first of each instance may have been NOSCRIPT + EVAL), no give-back call.
      const calls = sent.map((args) => args[0]);
      expect(calls.filter((c) => c === 'EVALSHA')).toHaveLength(30);
      expect(calls.filter((c) => c !== 'EVALSHA' && c !== 'EVAL')).toEqual([]);
      // The day's window counted only the 5 admitted requests; the minute's holds every request.
      const counters = (sent[0] ?? []).slice(3, 5);
      const values = await Promise.all(counters.map((c) => admin.sendCommand(['GET', c])));
      expect(counters.every((c) => c.startsWith(prefix))).toBe(true);
      expect(values.map(Number).sort((x, y) => x - y)).toEqual([5, 30]);
      for (const r of answers.filter((r) => r.status === 429)) {
        expect(r.headers.ratelimit).toMatch(/^"5-in-60s"; r=0; t=\d+$/);
      }
    });

    it('loads the script again after SCRIPT FLUSH (NOSCRIPT): the next request is counted', async () => {
      const { a, planned } = await twoInstances();
      const { token } = await planned();
      expect((await request(a.app).get('/r').set(bearer(token))).headers.ratelimit).toMatch(/; r=4;/);
      await admin.sendCommand(['SCRIPT', 'FLUSH']);
      const next = await request(a.app).get('/r').set(bearer(token));
      expect(next.status).toBe(200);
      expect(next.headers.ratelimit).toMatch(/; r=3;/);
    });

    it('answers within the bound while Redis is frozen (SIGSTOP), as onStoreError says', async () => {
      const open = await twoInstances('open');
      const closed = await twoInstances('closed');
      const { token } = await open.planned();
      const { token: closedToken } = await closed.planned();
      expect((await request(open.a.app).get('/r').set(bearer(token))).status).toBe(200);
      expect((await request(closed.a.app).get('/r').set(bearer(closedToken))).status).toBe(200);
      redis.freeze();
      try {
        const started = Date.now();
        const answers = await Promise.all([
          ...Array.from({ length: 6 }, () => request(open.a.app).get('/r').set(bearer(token))),
          ...Array.from({ length: 6 }, () => request(closed.b.app).get('/r').set(bearer(closedToken))),
        ]);
        const took = Date.now() - started;
        // Generous bound (the timeout is 1 s; without it the requests wait as long as the freeze lasts).
        console.info(`12 requests answered in ${took} ms with Redis frozen`);
        expect(took).toBeLessThan(10_000);
        expect(answers.slice(0, 6).map((r) => r.status)).toEqual(Array(6).fill(200));
        for (const r of answers.slice(0, 6)) expect(r.headers.ratelimit).toBeUndefined();
        expect(answers.slice(6).map((r) => r.body.error?.code)).toEqual(
          Array(6).fill('key_store_unavailable'),
        );
      } finally {
        redis.thaw();
      }
    }, 30_000);
  },
);
