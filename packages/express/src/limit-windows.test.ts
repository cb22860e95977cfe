import { randomUUID } from 'node:crypto';
import { createKeyward, type KeyLimit, MemoryKeyStore } from '@keyward/core';
import { redisClient, redisRequirement, startRedis } from '@keyward/test-redis';
import express5 from 'express5';
import { RedisStore } from 'rate-limit-redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { CounterMemoryStore } from './counter-store.js';
import { createKeyLimiter, type KeyLimiterOptions } from './key-limiter.js';

// docs/reference.md §6: a key's own limits count on a slot, not a window, so a changed window carries on.
const ORG = 'org_windows';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Where the limiter counts: the default memory counting, a `store` factory, or the `redis` option. */
type Counting = Pick<KeyLimiterOptions, 'store' | 'redis'>;

function instance(counting: Counting) {
  const keyward = createKeyward({
    store: new MemoryKeyStore(),
    pepper: 'windows-test-pepper-0123456789abcdef',
    scopes: ['snippets:read'],
    plans: { free: { limits: [{ limit: 3, windowSeconds: 600 }] } },
  });
  const app = express5();
  app.get(
    '/r',
    apiKeyAuth(keyward, { limiter: createKeyLimiter({ ...counting, timeoutMs: 1000 }) }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  const statuses = async (token: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await request(app).get('/r').set(bearer(token))).status);
    return out;
  };
  const key = (limits: KeyLimit[], plan?: string) =>
    keyward.createKey(ORG, { name: 'K', type: 'secret', limits, ...(plan ? { plan } : {}) });
  const setLimits = (id: string, limits: KeyLimit[]) => keyward.updateKey(ORG, id, { limits });
  const get = (token: string) => request(app).get('/r').set(bearer(token));
  return { statuses, key, setLimits, get };
}

function windowTests(store: () => Counting) {
  it("carries a key's count on when its limit's window changes (no fresh quota)", async () => {
    const { statuses, key, setLimits, get } = instance(store());
    const { key: k, token } = await key([{ limit: 3, windowSeconds: 3600 }]);
    expect(await statuses(token, 3)).toEqual([200, 200, 200]);
    await setLimits(k.id, [{ limit: 3, windowSeconds: 7200 }]);
    expect(await statuses(token, 1)).toEqual([429]);
    // Shrunk, the count carries on until its own window (an hour) ends, and Retry-After says so.
    await setLimits(k.id, [{ limit: 3, windowSeconds: 60 }]);
    const refused = await get(token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);
  });

  it("keeps the longest window's count in the longest slot when a shorter limit is added", async () => {
    const { statuses, key, setLimits } = instance(store());
    const { key: k, token } = await key([{ limit: 2, windowSeconds: 3600 }]);
    expect(await statuses(token, 2)).toEqual([200, 200]);
    await setLimits(k.id, [
      { limit: 10, windowSeconds: 1 },
      { limit: 2, windowSeconds: 86_400 },
    ]);
    expect(await statuses(token, 1)).toEqual([429]);
  });

  it("keeps a plan's count when the key's own limit of the plan's window is changed", async () => {
    const { statuses, key, setLimits } = instance(store());
    const { key: k, token } = await key([{ limit: 2, windowSeconds: 600 }], 'free');
    expect(await statuses(token, 2)).toEqual([200, 200]);
    // Without its own limit the plan's (3 per 600 s) binds, on the count the own limit tightened.
    await setLimits(k.id, [{ limit: 100, windowSeconds: 60 }]);
    expect(await statuses(token, 2)).toEqual([200, 429]);
  });
}

describe('limit windows, memory store', () => {
  windowTests(() => ({}));
});

describe('limit windows, express-rate-limit memory stores (the store option)', () => {
  windowTests(() => ({ store: () => new CounterMemoryStore() }));
});

const redisNeeded = redisRequirement();

describe.skipIf(!redisNeeded.run)(
  `limit windows, Redis (one prefix for every window)${redisNeeded.run ? '' : ` (skipped: ${redisNeeded.reason})`}`,
  () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let client: Awaited<ReturnType<typeof redisClient>>;
    beforeAll(async () => {
      redis = await startRedis();
      client = await redisClient(redis.port);
    }, 30_000);
    afterAll(async () => {
      client?.destroy();
      await redis?.stop();
    });
    windowTests(() => {
      const prefix = `kw-windows-${randomUUID()}:`;
      return {
        store: () => new RedisStore({ sendCommand: (...args: string[]) => client.sendCommand(args), prefix }),
      };
    });
    describe('the redis option (one script call)', () => {
      windowTests(() => ({
        redis: {
          sendCommand: (...args: string[]) => client.sendCommand(args),
          prefix: `kw-windows-${randomUUID()}:`,
        },
      }));
    });
  },
);
