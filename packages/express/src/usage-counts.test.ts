import { createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { testClock } from '@keyward/core/testing';
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import { createKeyLimiter } from './key-limiter.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  EXPRESS_VERSIONS,
  type ExpressFactory,
  fakeDateAt,
  keyMiddleware,
  type Mount,
  ORG,
} from './test-fixtures.js';

const NOW = Date.parse('2030-06-01T00:00:00Z');

fakeDateAt(NOW);

/** One app instance: its own service (own counters and limiter) on the shared store. */
function instance(express: ExpressFactory, keyward: Keyward, mount: Mount): Express {
  const limiter = createKeyLimiter();
  const guard = (options: { scopes?: string[]; type?: 'secret' } = {}) =>
    keyMiddleware(mount, keyward, { limiter, ...options });
  const app = express();
  const ok: RequestHandler = (_req, res) => {
    res.json({ ok: true });
  };
  app.get('/r', guard(), ok);
  app.get('/w', guard({ scopes: ['snippets:write'] }), ok);
  app.get('/s', guard({ type: 'secret' }), ok);
  app.use(keywardErrorHandler());
  return app;
}

describe.each(EXPRESS_VERSIONS)('usage counts over HTTP on %s', (_version, express) => {
  describe.each<Mount>(['apiKeyAuth', 'passport'])('through %s', (mount) => {
    it('counts each request of two instances once, under its final outcome', async () => {
      const store = new MemoryKeyStore();
      const clock = testClock(NOW);
      const options = {
        store,
        clock: clock.now,
        pepper: 'express-test-pepper-0123456789abcdef',
        scopes: ['snippets:read', 'snippets:write'],
        publicScopes: ['snippets:read'],
        usage: { flushIntervalMs: 600_000 },
      };
      const ka = createKeyward(options);
      const kb = createKeyward(options);
      const a = instance(express, ka, mount);
      const b = instance(express, kb, mount);
      const make = async (input: Record<string, unknown>) =>
        ka.createKey(ORG, { name: 'K', type: 'public', ...input } as never);
      const open = await make({});
      const ip = await make({ allowedIps: ['203.0.113.0/24'] });
      const origin = await make({ allowedOrigins: ['https://app.example.com'] });
      const limited = await make({ limits: [{ limit: 1, windowSeconds: 60 }] });
      const disabled = await make({});
      const expiring = await make({ expiresAt: new Date(NOW + 1_000) });
      await ka.updateKey(ORG, disabled.key.id, { disabled: true });

      const call = (app: Express, path: string, token: string, headers: Record<string, string> = {}) =>
        request(app)
          .get(path)
          .set({ Authorization: `Bearer ${token}`, ...headers });
      const statuses: number[] = [];
      const run = async (app: Express, path: string, token: string, headers?: Record<string, string>) =>
        statuses.push((await call(app, path, token, headers)).status);
      for (let i = 0; i < 3; i++) await run(a, '/r', open.token);
      for (let i = 0; i < 2; i++) await run(b, '/r', open.token);
      await run(a, '/w', open.token);
      await run(b, '/s', open.token);
      await run(a, '/r', ip.token);
      await run(b, '/r', origin.token, { Origin: 'https://evil.example' });
      await run(b, '/r', origin.token, { Origin: 'https://app.example.com' });
      await run(a, '/r', limited.token);
      await run(a, '/r', limited.token);
      await run(b, '/r', disabled.token);
      await run(a, '/r', disabled.token);
      await run(a, '/r', 'kw_pub_notakey'); // not a key: counted nowhere
      clock.advance(2_000);
      await run(b, '/r', expiring.token);
      expect(statuses).toEqual([
        200, 200, 200, 200, 200, 403, 403, 403, 403, 200, 200, 429, 401, 401, 401, 401,
      ]);

      await Promise.all([ka.flushUsage(), kb.flushUsage()]);
      const counts = async (id: string) => {
        const usage = await kb.keyUsage(ORG, id, {
          granularity: 'minute',
          from: new Date(NOW).toISOString(),
        });
        const [first, ...rest] = usage?.data ?? [];
        expect(rest.every((d) => d.admitted === 0 && Object.keys(d.refused).length === 0)).toBe(true);
        return { admitted: first?.admitted, ...first?.refused };
      };
      expect(await counts(open.key.id)).toEqual({
        admitted: 5,
        insufficient_scope: 1,
        secret_key_required: 1,
      });
      expect(await counts(ip.key.id)).toEqual({ admitted: 0, ip_not_allowed: 1 });
      expect(await counts(origin.key.id)).toEqual({ admitted: 1, origin_not_allowed: 1 });
      expect(await counts(limited.key.id)).toEqual({ admitted: 1, rate_limited: 1 });
      expect(await counts(disabled.key.id)).toEqual({ admitted: 0, disabled_api_key: 2 });
      expect(await counts(expiring.key.id)).toEqual({ admitted: 0, expired_api_key: 1 });
      const org = await ka.usage(ORG, { granularity: 'day', from: new Date(NOW).toISOString() });
      expect(org.data[0]).toMatchObject({ admitted: 7 });
      expect(org.topKeys[0]?.id).toBe(open.key.id);
    });
  });
});

describe.each(EXPRESS_VERSIONS)('usage counts through stacked guards on %s', (_version, express) => {
  it('counts a request through two apiKeyAuth (and the split guards) once, under its final outcome', async () => {
    const keyward = createKeyward({
      store: new MemoryKeyStore(),
      pepper: 'express-test-pepper-0123456789abcdef',
      scopes: ['snippets:read', 'snippets:write'],
      publicScopes: ['snippets:read'],
      usage: { flushIntervalMs: 600_000 },
    });
    const app = express();
    const ok: RequestHandler = (_req, res) => {
      res.json({ ok: true });
    };
    app.use('/v1', apiKeyAuth(keyward));
    app.get('/v1/r', apiKeyAuth(keyward, { scopes: ['snippets:read'] }), ok);
    app.get('/v1/w', apiKeyAuth(keyward, { scopes: ['snippets:write'] }), ok);
    app.get('/v1/split', requireScopes(['snippets:write']), ok);
    app.get('/v1/secret', requireSecretKey(), ok);
    const { key, token } = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    const get = (path: string) => request(app).get(path).set('Authorization', `Bearer ${token}`);
    expect((await get('/v1/r')).status).toBe(200);
    expect((await get('/v1/r')).status).toBe(200);
    expect((await get('/v1/w')).status).toBe(403);
    expect((await get('/v1/split')).status).toBe(403);
    expect((await get('/v1/secret')).status).toBe(403);
    await keyward.flushUsage();
    const usage = await keyward.keyUsage(ORG, key.id, {
      granularity: 'day',
      from: new Date(NOW).toISOString(),
    });
    expect(usage?.data[0]).toMatchObject({
      admitted: 2,
      refused: { insufficient_scope: 2, secret_key_required: 1 },
    });
  });
});
