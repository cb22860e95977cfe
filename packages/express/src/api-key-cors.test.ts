import { generateToken } from '@keyward/core/store';
import type { Express, RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyCors } from './api-key-cors.js';
import { keywardErrorHandler } from './error-handler.js';
import { createKeyLimiter } from './key-limiter.js';
import {
  countingHandler,
  EXPRESS_VERSIONS,
  type ExpressFactory,
  keyMiddleware,
  keywardFixture,
  type Mount,
  ORG,
} from './test-fixtures.js';

const APP_ORIGIN = 'https://app.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';
const EXPOSED =
  'RateLimit,RateLimit-Policy,Retry-After,Sunset,Deprecation,WWW-Authenticate,Credits-Remaining';

/** `GET /r` behind apiKeyCors then the key middleware, a throttle of 3 refused keys per address. */
async function corsApp(express: ExpressFactory, mount: Mount) {
  const f = await keywardFixture();
  const bound = await f.keyward.createKey(ORG, {
    name: 'Bound',
    type: 'public',
    allowedOrigins: [APP_ORIGIN],
  });
  const limiter = createKeyLimiter({ invalidKeyThrottle: { limit: 3, windowSeconds: 300 } });
  const auth = keyMiddleware(mount, f.keyward, { limiter });
  const handler = countingHandler();
  const app: Express = express();
  app.use(apiKeyCors());
  app.get('/r', auth, handler);
  app.use(keywardErrorHandler());
  return { ...f, bound, app, handler };
}

describe.each(EXPRESS_VERSIONS)('apiKeyCors on %s', (_version, express) => {
  describe.each<Mount>(['apiKeyAuth', 'passport'])('before %s', (mount) => {
    it('answers a preflight for any origin with the allowed methods and headers, without a lookup', async () => {
      const { app, handler, store } = await corsApp(express, mount);
      const res = await request(app)
        .options('/r')
        .set({ Origin: OTHER_ORIGIN, 'Access-Control-Request-Method': 'GET' })
        .set('Access-Control-Request-Headers', 'authorization');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-methods']).toBe('GET,HEAD,POST,PUT,PATCH,DELETE');
      expect(res.headers['access-control-allow-headers']).toBe('Authorization,X-API-Key,Content-Type');
      expect(res.headers['access-control-max-age']).toBe('600');
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
      expect(handler.runs).toBe(0);
      expect(store.lookups).toBe(0);
    });

    it('answers any origin for a key without allowedOrigins, exposing the rate-limit and key headers', async () => {
      const { app, publicKey, secret } = await corsApp(express, mount);
      for (const token of [publicKey.token, secret.token]) {
        const res = await request(app).get('/r').set({ Origin: OTHER_ORIGIN, 'X-API-Key': token });
        expect(res.status).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe('*');
        expect(res.headers['access-control-expose-headers']).toBe(EXPOSED);
      }
    });

    it('answers an origin-bound public key for its own origin only, with Vary: Origin, in one lookup', async () => {
      const { app, bound, store } = await corsApp(express, mount);
      const ok = await request(app)
        .get('/r')
        .set({ Origin: APP_ORIGIN, Authorization: `Bearer ${bound.token}` });
      expect(ok.status).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
      expect(ok.headers.vary).toMatch(/\bOrigin\b/);
      expect(ok.headers['access-control-expose-headers']).toBe(EXPOSED);
      expect(store.lookups).toBe(1);

      const other = await request(app)
        .get('/r')
        .set({ Origin: OTHER_ORIGIN, Authorization: `Bearer ${bound.token}` });
      expect(other.status).toBe(403);
      expect(other.body.error.code).toBe('origin_not_allowed');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      expect(other.headers['access-control-expose-headers']).toBeUndefined();
      expect(other.headers.vary).toMatch(/\bOrigin\b/);
      // The second request was served from the verify cache: still one lookup in all.
      expect(store.lookups).toBe(1);
    });

    it('lets a page read a refusal of an unknown key (any origin)', async () => {
      const { app } = await corsApp(express, mount);
      const res = await request(app)
        .get('/r')
        .set({ Origin: OTHER_ORIGIN, 'X-API-Key': generateToken('kw', 'public') });
      expect(res.status).toBe(401);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    });

    it('answers a throttled client 429 with CORS headers and no store lookup', async () => {
      const { app, store, bound } = await corsApp(express, mount);
      for (let i = 0; i < 3; i++) {
        const res = await request(app)
          .get('/r')
          .set({ Origin: APP_ORIGIN, 'X-API-Key': generateToken('kw', 'public') });
        expect(res.status).toBe(401);
      }
      const before = store.lookups;
      expect(before).toBe(3);
      for (const token of [generateToken('kw', 'public'), bound.token, generateToken('kw', 'secret')]) {
        const res = await request(app)
          .get('/r')
          .set({ Origin: APP_ORIGIN, Authorization: `Bearer ${token}` });
        expect(res.status).toBe(429);
        expect(res.body.error.code).toBe('too_many_invalid_keys');
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.headers['access-control-allow-origin']).toBe('*');
      }
      expect(store.lookups).toBe(before);
    });
  });

  it('acts as apiKeyCors() when mounted without ()', async () => {
    const app: Express = express();
    app.use(apiKeyCors as unknown as RequestHandler);
    app.get('/r', countingHandler());
    const res = await request(app)
      .options('/r')
      .set({ Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET' });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  it('uses the methods, headers and max age it is given', async () => {
    const app: Express = express();
    app.use(
      apiKeyCors({
        methods: ['GET'],
        allowedHeaders: ['Api-Key'],
        exposedHeaders: ['RateLimit'],
        maxAge: 60,
      }),
    );
    app.get('/r', countingHandler());
    const pre = await request(app)
      .options('/r')
      .set({ Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET' });
    expect(pre.headers['access-control-allow-methods']).toBe('GET');
    expect(pre.headers['access-control-allow-headers']).toBe('Api-Key');
    expect(pre.headers['access-control-max-age']).toBe('60');
    const res = await request(app).get('/r').set('Origin', APP_ORIGIN);
    expect(res.headers['access-control-expose-headers']).toBe('RateLimit');
  });
});

describe('apiKeyCors options', () => {
  it.each([
    ['an unknown option', { origin: '*' }],
    ['methods that are not names', { methods: ['GET POST'] }],
    ['allowedHeaders that are not an array', { allowedHeaders: 'Authorization' }],
    ['a negative maxAge', { maxAge: -1 }],
    ['a fractional maxAge', { maxAge: 1.5 }],
  ])('throws TypeError at start-up for %s', (_what, options) => {
    expect(() => apiKeyCors(options as never)).toThrow(TypeError);
  });
});
