import { type CreateKeyInput, type KeyStore, MemoryKeyStore } from '@keyward/core';
import { createTokenHasher, generateToken } from '@keyward/core/store';
import { delegatingStore, makeStoredKey } from '@keyward/core/testing';
import type { ErrorRequestHandler, Express } from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import { createKeyLimiter, type KeyLimiterOptions } from './key-limiter.js';
import { createPassportStrategy } from './passport.js';
import {
  countingHandler,
  EXPRESS_VERSIONS,
  type ExpressFactory,
  fakeDateAt,
  keyMiddleware,
  keywardFixture,
  type Mount,
  ORG,
} from './test-fixtures.js';

const PEPPER = 'express-test-pepper-0123456789abcdef';
const NOW = Date.parse('2030-06-01T00:00:00Z');

fakeDateAt(NOW);

const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

/** An app with `GET /r` (any key), `GET /w` (scope snippets:write) behind one limiter, and a counting handler. */
function appFor(
  express: ExpressFactory,
  keyward: Parameters<typeof apiKeyAuth>[0],
  options: { mount?: Mount; trustProxy?: boolean; limiter?: KeyLimiterOptions } = {},
) {
  const limiter = createKeyLimiter(options.limiter);
  const handler = countingHandler();
  const app: Express = express();
  if (options.trustProxy) app.set('trust proxy', true);
  const guard = (scopes?: string[]) =>
    keyMiddleware(options.mount ?? 'apiKeyAuth', keyward, { limiter, ...(scopes && { scopes }) });
  app.get('/r', guard(), handler);
  app.get('/w', guard(['snippets:write']), handler);
  app.use(keywardErrorHandler());
  return { app, handler };
}

async function keyWith(input: Partial<CreateKeyInput>, overrides: Parameters<typeof keywardFixture>[0] = {}) {
  const f = await keywardFixture(overrides);
  const created = await f.keyward.createKey(ORG, { name: 'Limited', type: 'public', ...input });
  return { ...f, key: created.key, token: created.token };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe.each(EXPRESS_VERSIONS)('per-key policies on %s', (_version, express) => {
  describe.each<Mount>(['apiKeyAuth', 'passport'])('through %s', (mount) => {
    describe('limits', () => {
      it('admits limit requests per window, then answers 429 rate_limited with Retry-After and RateLimit headers', async () => {
        const { keyward, token } = await keyWith({ limits: [{ limit: 3, windowSeconds: 10 }] });
        const { app, handler } = appFor(express, keyward, { mount });
        for (let i = 1; i <= 3; i++) {
          const res = await request(app).get('/r').set(bearer(token));
          expect(res.status).toBe(200);
          expect(res.headers['ratelimit-policy']).toBe('"3-in-10s"; q=3; w=10');
          expect(res.headers.ratelimit).toBe(`"3-in-10s"; r=${3 - i}; t=10`);
          // Sent with lowercase names (cheaper for Node to write; field names are case-insensitive).
          const raw = (res as unknown as { res: { rawHeaders: string[] } }).res.rawHeaders;
          expect(raw.filter((name) => /^ratelimit/i.test(name))).toEqual(['ratelimit-policy', 'ratelimit']);
        }
        advance(2_500);
        const refused = await request(app).get('/r').set(bearer(token));
        expect(refused.status).toBe(429);
        expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
        expect(refused.headers['retry-after']).toBe('8');
        expect(refused.headers.ratelimit).toBe('"3-in-10s"; r=0; t=8');
        expect(refused.headers['www-authenticate']).toBeUndefined();
        expect(handler.runs).toBe(3);
        advance(7_500);
        expect((await request(app).get('/r').set(bearer(token))).status).toBe(200);
      });

      it('enforces each window of a 3-window key, answering with the window that frees up last', async () => {
        const { keyward, token } = await keyWith({
          limits: [
            { limit: 2, windowSeconds: 1 },
            { limit: 4, windowSeconds: 10 },
            { limit: 6, windowSeconds: 60 },
          ],
        });
        const { app } = appFor(express, keyward, { mount });
        const get = () => request(app).get('/r').set(bearer(token));
        const statuses = async (n: number) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) out.push((await get()).status);
          return out;
        };
        // The 1-second window.
        const first = await get();
        expect(first.headers.ratelimit).toBe('"2-in-1s"; r=1; t=1');
        expect(await statuses(2)).toEqual([200, 429]);
        // A refused request is not counted by the other windows: the 10-second one has 2 of 4 here.
        advance(1_000);
        expect(await statuses(2)).toEqual([200, 200]);
        const both = await get();
        expect(both.status).toBe(429);
        expect(both.headers['retry-after']).toBe('9');
        expect(both.headers['ratelimit-policy']).toBe('"4-in-10s"; q=4; w=10');
        // The 10-second window alone.
        advance(1_000);
        const ten = await get();
        expect(ten.status).toBe(429);
        expect(ten.headers['retry-after']).toBe('8');
        // The 60-second window: 4 used, 2 left.
        advance(8_000);
        expect(await statuses(2)).toEqual([200, 200]);
        advance(1_000);
        const sixty = await get();
        expect(sixty.status).toBe(429);
        expect(sixty.headers['ratelimit-policy']).toBe('"6-in-60s"; q=6; w=60');
        expect(sixty.headers['retry-after']).toBe('49');
        advance(49_000);
        expect((await get()).status).toBe(200);
      });

      it('answers disabled_api_key, not 429, for a disabled key over its limit (the documented order)', async () => {
        const { keyward, token, key } = await keyWith({ limits: [{ limit: 1, windowSeconds: 60 }] });
        const { app } = appFor(express, keyward, { mount });
        expect((await request(app).get('/r').set(bearer(token))).status).toBe(200);
        expect((await request(app).get('/r').set(bearer(token))).status).toBe(429);
        await keyward.updateKey(ORG, key.id, { disabled: true });
        const res = await request(app).get('/r').set(bearer(token));
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('disabled_api_key');
        expect(res.headers.ratelimit).toBeUndefined();
      });

      it('counts only admitted requests: scope and address refusals do not use the limit', async () => {
        const { keyward, token } = await keyWith({
          limits: [{ limit: 2, windowSeconds: 60 }],
          allowedIps: ['127.0.0.1', '203.0.113.0/24'],
        });
        const { app, handler } = appFor(express, keyward, { mount, trustProxy: true });
        for (let i = 0; i < 3; i++) {
          expect((await request(app).get('/w').set(bearer(token))).body.error.code).toBe(
            'insufficient_scope',
          );
          const elsewhere = await request(app)
            .get('/r')
            .set(bearer(token))
            .set('X-Forwarded-For', '198.51.100.1');
          expect(elsewhere.body.error.code).toBe('ip_not_allowed');
        }
        const from = (ip: string) => request(app).get('/r').set(bearer(token)).set('X-Forwarded-For', ip);
        expect((await from('203.0.113.9')).status).toBe(200);
        expect((await from('203.0.113.9')).status).toBe(200);
        expect((await from('203.0.113.9')).status).toBe(429);
        expect(handler.runs).toBe(2);
      });

      it('sends no RateLimit headers for a key without limits', async () => {
        const { keyward, token } = await keyWith({});
        const { app } = appFor(express, keyward, { mount });
        const res = await request(app).get('/r').set(bearer(token));
        expect(res.status).toBe(200);
        expect(res.headers['ratelimit-policy']).toBeUndefined();
        expect(res.headers.ratelimit).toBeUndefined();
      });

      it('fails open by default and closed with 503 when the counting store rejects', async () => {
        const { keyward, token } = await keyWith({ limits: [{ limit: 1, windowSeconds: 60 }] });
        // The store under the limiter fails as an unreachable Redis would (the limiter is what is tested).
        const down = () => ({
          increment: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
          decrement: async () => {},
          resetKey: async () => {},
        });
        const open = appFor(express, keyward, { mount, limiter: { store: down } });
        for (let i = 0; i < 3; i++) {
          const res = await request(open.app).get('/r').set(bearer(token));
          expect(res.status).toBe(200);
          expect(res.headers.ratelimit).toBeUndefined();
        }
        const closed = appFor(express, keyward, { mount, limiter: { store: down, onStoreError: 'closed' } });
        const res = await request(closed.app).get('/r').set(bearer(token));
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('key_store_unavailable');
        expect(closed.handler.runs).toBe(0);
      });
    });

    describe('allowed origins', () => {
      const origins = ['https://app.example.com', 'https://*.example.org'];

      it.each([
        ['an allowed origin', { Origin: 'https://app.example.com' }, 200],
        ['a wildcard subdomain', { Origin: 'https://a.b.example.org' }, 200],
        ['the bare domain of a wildcard', { Origin: 'https://example.org' }, 403],
        ['another origin', { Origin: 'https://evil.example.net' }, 403],
        ['a look-alike suffix', { Origin: 'https://app.example.com.evil.net' }, 403],
        ['another scheme', { Origin: 'http://app.example.com' }, 403],
        ['Origin null (sandboxed frame)', { Origin: 'null' }, 403],
        ['no Origin, an allowed Referer', { Referer: 'https://app.example.com/page?q=1' }, 200],
        ['no Origin, a wildcard Referer', { Referer: 'https://x.example.org/a/b' }, 200],
        ['no Origin, another Referer', { Referer: 'https://evil.example.net/app.example.com' }, 403],
        ['no Origin, an unparsable Referer', { Referer: 'not a url' }, 403],
        ['neither Origin nor Referer', {}, 403],
        [
          'an Origin that wins over an allowed Referer',
          { Origin: 'https://evil.example.net', Referer: 'https://app.example.com/' },
          403,
        ],
      ])('public key bound to origins, %s → %s', async (_case, headers, status) => {
        const { keyward, token } = await keyWith({ allowedOrigins: origins });
        const { app, handler } = appFor(express, keyward, { mount });
        const res = await request(app)
          .get('/r')
          .set(bearer(token))
          .set(headers as Record<string, string>);
        expect(res.status).toBe(status);
        if (status === 403) expect(res.body.error.code).toBe('origin_not_allowed');
        expect(handler.runs).toBe(status === 200 ? 1 : 0);
      });

      it('does not bind secret keys to origins, even a stored key that has some', async () => {
        // The service refuses origins on secret keys; a record written by other means must not bind it either.
        const store = new MemoryKeyStore();
        const { keyward } = await keywardFixture({ store });
        const token = generateToken('kw', 'secret');
        await store.insert(
          makeStoredKey({
            organizationId: ORG,
            hash: createTokenHasher(PEPPER)(token),
            allowedOrigins: ['https://app.example.com'],
            scopes: ['snippets:read'],
          }),
        );
        const { app } = appFor(express, keyward, { mount });
        expect((await request(app).get('/r').set(bearer(token))).status).toBe(200);
        expect(
          (await request(app).get('/r').set(bearer(token)).set('Origin', 'https://evil.example')).status,
        ).toBe(200);
      });
    });

    describe('allowed addresses', () => {
      it.each([
        ['an IPv4 address', ['203.0.113.7'], '203.0.113.7', 200],
        ['another IPv4 address', ['203.0.113.7'], '203.0.113.8', 403],
        ['the first address of a CIDR range', ['10.1.0.0/16'], '10.1.0.0', 200],
        ['the last address of a CIDR range', ['10.1.0.0/16'], '10.1.255.255', 200],
        ['the address before a CIDR range', ['10.1.0.0/16'], '10.0.255.255', 403],
        ['the address after a CIDR range', ['10.1.0.0/16'], '10.2.0.0', 403],
        ['an IPv6 address', ['2001:db8::7'], '2001:db8::7', 200],
        ['an IPv6 address in a range', ['2001:db8::/32'], '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 200],
        ['an IPv6 address outside a range', ['2001:db8::/32'], '2001:db9::', 403],
        ['an IPv4 client of an IPv6-only list', ['2001:db8::/32'], '203.0.113.7', 403],
      ])('behind a trusted proxy, %s → %s', async (_case, allowedIps, ip, status) => {
        const { keyward, token } = await keyWith({ type: 'secret', allowedIps });
        const { app, handler } = appFor(express, keyward, { mount, trustProxy: true });
        const res = await request(app)
          .get('/r')
          .set(bearer(token))
          .set('X-Forwarded-For', ip as string);
        expect(res.status).toBe(status);
        if (status === 403) expect(res.body.error.code).toBe('ip_not_allowed');
        expect(handler.runs).toBe(status === 200 ? 1 : 0);
      });

      it('reads the socket address, not X-Forwarded-For, when trust proxy is off', async () => {
        const { keyward, token } = await keyWith({ allowedIps: ['203.0.113.0/24'] });
        const { app } = appFor(express, keyward, { mount });
        const spoofed = await request(app).get('/r').set(bearer(token)).set('X-Forwarded-For', '203.0.113.7');
        expect(spoofed.status).toBe(403);
        expect(spoofed.body.error.code).toBe('ip_not_allowed');
        const local = await keyWith({ allowedIps: ['127.0.0.1', '::1'] });
        const { app: localApp } = appFor(express, local.keyward, { mount });
        // supertest connects over loopback: 127.0.0.1, or ::ffff:127.0.0.1 on a dual-stack socket.
        expect((await request(localApp).get('/r').set(bearer(local.token))).status).toBe(200);
      });

      it('checks the address before the origin (the documented order)', async () => {
        const { keyward, token } = await keyWith({
          allowedIps: ['203.0.113.7'],
          allowedOrigins: ['https://a.example'],
        });
        const { app } = appFor(express, keyward, { mount });
        const res = await request(app).get('/r').set(bearer(token)).set('Origin', 'https://evil.example');
        expect(res.body.error.code).toBe('ip_not_allowed');
      });
    });

    describe('invalid-key throttle', () => {
      /** A real MemoryKeyStore behind a wrapper that counts every read. */
      function countingStore() {
        const inner = new MemoryKeyStore();
        const reads = { count: 0 };
        const counted =
          <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
          (...args: A) => {
            reads.count++;
            return fn(...args);
          };
        const store: KeyStore = delegatingStore(inner, {
          findByHash: counted((h: string) => inner.findByHash(h)),
          findById: counted((o: string, id: string) => inner.findById(o, id)),
          findBySlot: counted((s: string) => inner.findBySlot(s)),
        });
        return { store, reads };
      }

      it('answers 429 too_many_invalid_keys after 50 refused keys from one address, before any store read', async () => {
        const { store, reads } = countingStore();
        const { keyward, secret } = await keywardFixture({ store });
        const { app } = appFor(express, keyward, { mount, trustProxy: true });
        const from = (ip: string, token: string) =>
          request(app).get('/r').set(bearer(token)).set('X-Forwarded-For', ip);
        // Warm the valid key into the cache, then count reads from here.
        expect((await from('198.51.100.2', secret.token)).status).toBe(200);
        for (let i = 0; i < 50; i++) {
          const res = await from('203.0.113.66', generateToken('kw', 'secret'));
          expect(res.body.error.code).toBe('invalid_api_key');
        }
        const before = reads.count;
        for (const token of [generateToken('kw', 'secret'), secret.token, 'garbage']) {
          const res = await from('203.0.113.66', token);
          expect(res.status).toBe(429);
          expect(res.body.error.code).toBe('too_many_invalid_keys');
          expect(res.headers['retry-after']).toBe('300');
        }
        expect(reads.count).toBe(before);
        // Another address with a valid key is unaffected; the window's end frees the address.
        expect((await from('198.51.100.2', secret.token)).status).toBe(200);
        advance(299_000);
        expect((await from('203.0.113.66', secret.token)).headers['retry-after']).toBe('1');
        advance(1_000);
        expect((await from('203.0.113.66', secret.token)).status).toBe(200);
      });

      it('can be tuned and turned off', async () => {
        const { keyward } = await keywardFixture();
        const tuned = appFor(express, keyward, {
          mount,
          limiter: { invalidKeyThrottle: { limit: 2, windowSeconds: 10 } },
        });
        const off = appFor(express, keyward, { mount, limiter: { invalidKeyThrottle: false } });
        const codes = async (app: Express) => {
          const out: string[] = [];
          for (let i = 0; i < 4; i++)
            out.push((await request(app).get('/r').set(bearer('kw_sk_nope'))).body.error.code);
          return out;
        };
        expect(await codes(tuned.app)).toEqual([
          'invalid_api_key',
          'invalid_api_key',
          'too_many_invalid_keys',
          'too_many_invalid_keys',
        ]);
        expect(await codes(off.app)).toEqual(Array(4).fill('invalid_api_key'));
      });
    });
  });

  it('counts a request once when two apiKeyAuth middlewares share a limiter', async () => {
    const { keyward, token } = await keyWith({ limits: [{ limit: 2, windowSeconds: 60 }] });
    const limiter = createKeyLimiter();
    const app = express();
    app.get(
      '/r',
      apiKeyAuth(keyward, { limiter }),
      apiKeyAuth(keyward, { limiter, scopes: ['snippets:read'] }),
      (_req, res) => {
        res.json({});
      },
    );
    expect((await request(app).get('/r').set(bearer(token))).status).toBe(200);
    expect((await request(app).get('/r').set(bearer(token))).status).toBe(200);
    expect((await request(app).get('/r').set(bearer(token))).status).toBe(429);
  });

  it('counts without touching a response an earlier middleware already sent (and still passed on)', async () => {
    const { keyward, token } = await keyWith({ limits: [{ limit: 2, windowSeconds: 60 }] });
    const errors: unknown[] = [];
    let ran = 0;
    const app = express();
    app.get(
      '/r',
      (_req, res, next) => {
        res.status(204).end();
        next();
      },
      apiKeyAuth(keyward),
      (_req, _res) => {
        ran++; // admitted: the route runs, and has nothing left to answer
      },
    );
    app.use(((error, _req, _res, next) => {
      errors.push(error);
      next();
    }) as ErrorRequestHandler);

    const res = await request(app).get('/r').set(bearer(token));

    expect(res.status).toBe(204);
    expect(res.headers.ratelimit).toBeUndefined();
    await vi.waitFor(() => expect(ran).toBe(1));
    expect(errors).toEqual([]);
  });

  it('shares the default in-memory limiter between the apiKeyAuth middlewares of one Keyward service', async () => {
    const { keyward, token } = await keyWith({ limits: [{ limit: 1, windowSeconds: 60 }] });
    const app = express();
    app.get('/a', apiKeyAuth(keyward), (_req, res) => res.json({}));
    app.get('/b', apiKeyAuth(keyward, { scopes: ['snippets:read'] }), (_req, res) => res.json({}));
    expect((await request(app).get('/a').set(bearer(token))).status).toBe(200);
    expect((await request(app).get('/b').set(bearer(token))).status).toBe(429);
  });

  it('throws a TypeError at start-up for a bad limiter or limiter option', () => {
    expect(() => createKeyLimiter({ onStoreError: 'maybe' as never })).toThrow(TypeError);
    expect(() => createKeyLimiter({ invalidKeyThrottle: { limit: 0 } })).toThrow(TypeError);
    expect(() => createKeyLimiter({ store: 'redis' as never })).toThrow(TypeError);
    expect(() => createKeyLimiter({ storre: () => null } as never)).toThrow(TypeError);
    return keywardFixture().then(({ keyward }) => {
      expect(() => apiKeyAuth(keyward, { limiter: {} as never })).toThrow(TypeError);
      expect(() => createPassportStrategy(keyward, { limiter: {} as never })).toThrow(TypeError);
    });
  });
});
