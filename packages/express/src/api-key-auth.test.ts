import type { Keyward } from '@keyward/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import type { AuthErrorHandler } from './options.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  appWith,
  CONTRACT_CASES,
  type ContractCase,
  countingHandler,
  EXPRESS_VERSIONS,
  expectContractAnswer,
  expectNoToken,
  keywardFixture,
  ORG,
  T0,
  tokensOf,
  verifiedSecretKey,
} from './test-fixtures.js';

type Mount = (keyward: Keyward, route: ContractCase['route']) => RequestHandler[];

const MOUNTS: [string, Mount][] = [
  ['apiKeyAuth with the route options', (keyward, route) => [apiKeyAuth(keyward, route)]],
  [
    'apiKeyAuth followed by requireSecretKey and requireScopes',
    (keyward, route) => [
      apiKeyAuth(keyward),
      ...(route.type ? [requireSecretKey()] : []),
      ...(route.scopes ? [requireScopes(route.scopes)] : []),
    ],
  ],
];

const INVALID = {
  status: 401,
  code: 'invalid_api_key',
  wwwAuthenticate: 'Bearer realm="api", error="invalid_token"',
};
const MISSING = { status: 401, code: 'missing_api_key', wwwAuthenticate: 'Bearer realm="api"' };
const CONFLICT = { status: 400, code: 'conflicting_api_keys', wwwAuthenticate: undefined };

/** Two values of one header (sent as two header lines). */
const twice = (a: string, b: string) => [a, b];

describe.each(EXPRESS_VERSIONS)('apiKeyAuth on %s', (_version, express) => {
  describe.each(MOUNTS)('mounted as %s', (_mount, mount) => {
    it.each(CONTRACT_CASES)(
      'answers $situation with $status $code and does not run the handler',
      async (row) => {
        const f = await keywardFixture();
        const headers = await row.arrange(f);
        const handler = countingHandler();
        const app = appWith(express, mount(f.keyward, row.route), handler);

        const res = await request(app).get('/r').set(headers);

        expectContractAnswer(res, row);
        expect(handler.runs).toBe(0);
        expect(res.headers.sunset).toBeUndefined();
        expectNoToken(res, tokensOf(f, headers));
      },
    );

    it('lets a key that meets every requirement through and runs the handler once', async () => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, mount(f.keyward, { type: 'secret', scopes: ['snippets:write'] }), handler);

      const res = await request(app).get('/r').set('Authorization', `Bearer ${f.secret.token}`);

      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
      expect(res.body).toEqual({
        apiKey: verifiedSecretKey(f),
      });
    });
  });

  it('sets req.apiKey to exactly { id, organizationId, name, type, scopes, meta } and never the token', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const app = appWith(express, [apiKeyAuth(f.keyward)], handler);

    const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

    expect(res.status).toBe(200);
    expect(Object.keys(handler.seen?.apiKey as object).sort()).toEqual([
      'id',
      'meta',
      'name',
      'organizationId',
      'scopes',
      'type',
    ]);
    expect(JSON.stringify(handler.seen?.apiKey)).not.toContain(f.publicKey.token);
    expectNoToken(res, [f.publicKey.token, f.secret.token]);
  });

  describe('reading the key from the request', () => {
    async function call(headers: Record<string, string | string[]>, options = {}, query = '') {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(f.keyward, options)], handler);
      const fill = (value: string) =>
        value.replaceAll('{secret}', f.secret.token).replaceAll('{public}', f.publicKey.token);
      const resolved = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.map(fill) : fill(value),
        ]),
      );
      // Arrays go out as repeated header lines (superagent's types only admit strings).
      const res = await request(app)
        .get(`/r${fill(query)}`)
        .set(resolved as Record<string, string>);
      return { res, handler, f };
    }

    it('accepts the key in Authorization: Bearer', async () => {
      const { res, handler } = await call({ Authorization: 'Bearer {secret}' });
      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
    });

    it('accepts the key in X-API-Key', async () => {
      const { res, handler } = await call({ 'X-API-Key': '{secret}' });
      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
    });

    it('accepts the same key in both headers', async () => {
      const { res, handler } = await call({ Authorization: 'Bearer {secret}', 'X-API-Key': '{secret}' });
      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
    });

    it.each(['bearer', 'BEARER', 'BeArEr'])(
      'reads the Bearer scheme case-insensitively (%s)',
      async (scheme) => {
        const { res } = await call({ Authorization: `${scheme} {secret}` });
        expect(res.status).toBe(200);
      },
    );

    it('accepts several spaces between Bearer and the token, as RFC 7235 allows', async () => {
      const { res } = await call({ Authorization: 'Bearer    {secret}' });
      expect(res.status).toBe(200);
    });

    it('answers missing_api_key for an Authorization header of another scheme and no X-API-Key', async () => {
      const { res, handler } = await call({ Authorization: 'Basic dXNlcjpwYXNzd29yZA==' });
      expectContractAnswer(res, MISSING);
      expect(handler.runs).toBe(0);
    });

    it('ignores an Authorization header of another scheme when X-API-Key holds the key', async () => {
      const { res, handler } = await call({
        Authorization: 'Basic dXNlcjpwYXNzd29yZA==',
        'X-API-Key': '{secret}',
      });
      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
    });

    it.each(['Bearer', 'Bearer    ', 'bearer\t'])(
      'answers missing_api_key for a Bearer header with no token (%j)',
      async (value) => {
        const { res, handler } = await call({ Authorization: value });
        expectContractAnswer(res, MISSING);
        expect(handler.runs).toBe(0);
      },
    );

    it.each<[string, Record<string, string>, typeof MISSING]>([
      ['missing_api_key for an empty X-API-Key', { 'X-API-Key': '' }, MISSING],
      [
        'invalid_api_key when something follows the token in the Bearer header',
        { Authorization: 'Bearer {secret} extra' },
        INVALID,
      ],
      ['invalid_api_key for a scheme inside X-API-Key', { 'X-API-Key': 'Bearer {secret}' }, INVALID],
    ])('answers %s', async (_case, headers, answer) => {
      const { res, handler } = await call(headers);
      expectContractAnswer(res, answer);
      expect(handler.runs).toBe(0);
    });

    it('never reads the key from the query string', async () => {
      const { res, handler } = await call(
        {},
        {},
        '?api_key={secret}&apiKey={secret}&key={secret}&access_token={secret}',
      );
      expectContractAnswer(res, MISSING);
      expect(handler.runs).toBe(0);
    });

    it('answers conflicting_api_keys for two Authorization headers with different keys', async () => {
      const { res, handler } = await call({ Authorization: twice('Bearer {secret}', 'Bearer {public}') });
      expectContractAnswer(res, CONFLICT);
      expect(handler.runs).toBe(0);
    });

    it('accepts two Authorization headers with the same key', async () => {
      const { res } = await call({ Authorization: twice('Bearer {secret}', 'Bearer {secret}') });
      expect(res.status).toBe(200);
    });

    it('answers conflicting_api_keys for two X-API-Key headers with different keys', async () => {
      const { res, handler } = await call({ 'X-API-Key': twice('{public}', '{secret}') });
      expectContractAnswer(res, CONFLICT);
      expect(handler.runs).toBe(0);
    });

    it('accepts two X-API-Key headers with the same key', async () => {
      const { res } = await call({ 'X-API-Key': twice('{public}', '{public}') });
      expect(res.status).toBe(200);
    });

    it('reads configured header names instead of the defaults', async () => {
      const options = { authorizationHeader: 'X-Auth', apiKeyHeader: 'X-Keyward-Key' };
      expect((await call({ 'X-Auth': 'Bearer {secret}' }, options)).res.status).toBe(200);
      expect((await call({ 'X-Keyward-Key': '{secret}' }, options)).res.status).toBe(200);
      expectContractAnswer((await call({ Authorization: 'Bearer {secret}' }, options)).res, MISSING);
      expectContractAnswer((await call({ 'X-API-Key': '{secret}' }, options)).res, MISSING);
    });

    it('ignores a header that is turned off with false', async () => {
      expectContractAnswer((await call({ 'X-API-Key': '{secret}' }, { apiKeyHeader: false })).res, MISSING);
      expectContractAnswer(
        (await call({ Authorization: 'Bearer {secret}' }, { authorizationHeader: false })).res,
        { ...MISSING, wwwAuthenticate: 'ApiKey realm="api", header="X-API-Key"' },
      );
      expect((await call({ 'X-API-Key': '{secret}' }, { authorizationHeader: false })).res.status).toBe(200);
    });

    it('uses the configured realm in WWW-Authenticate', async () => {
      const { res } = await call({}, { realm: 'snippets' });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="snippets"');
    });
  });

  describe('hostile input', () => {
    async function send(headers: Record<string, string>) {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(f.keyward)], handler);
      const res = await request(app).get('/r').set(headers);
      return { res, handler, f };
    }

    it('answers invalid_api_key for a 12,000-character key without looking it up', async () => {
      const { res, handler, f } = await send({ 'X-API-Key': `kw_sk_${'A'.repeat(12_000)}` });
      expectContractAnswer(res, INVALID);
      expect(handler.runs).toBe(0);
      expect(f.store.lookups).toBe(0);
    });

    it('never lets a header over the size limit reach the app (Node answers 431)', async () => {
      const { res, handler } = await send({ 'X-API-Key': 'A'.repeat(20_000) });
      expect(res.status).toBe(431);
      expect(handler.runs).toBe(0);
    });

    it.each([
      ['Latin-1 characters', 'kw_sk_\u00e9\u00e8\u00ff\u00a0'],
      ['quotes, backslashes and commas', 'kw_sk_"\\,;="'],
      ['a key cut short', 'kw_sk_'],
      ['only separators', '___'],
      ['a JSON object', '{"token":"kw_sk_x"}'],
    ])('answers invalid_api_key for a key made of %s', async (_what, value) => {
      const { res, handler } = await send({ 'X-API-Key': value });
      expectContractAnswer(res, INVALID);
      expect(handler.runs).toBe(0);
    });

    it.each([
      ['an X-API-Key of only U+00A0', 'X-API-Key', '\u00a0'],
      ['an X-API-Key with U+00A0 before the key', 'X-API-Key', '\u00a0{secret}'],
      ['an X-API-Key with U+00A0 after the key', 'X-API-Key', '{secret}\u00a0'],
      ['a Bearer header with U+00A0 before the key', 'Authorization', 'Bearer \u00a0{secret}'],
      ['a Bearer header with U+00A0 after the key', 'Authorization', 'Bearer {secret}\u00a0'],
    ])('answers invalid_api_key for %s: only SP and HTAB are HTTP whitespace', async (_what, name, value) => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(f.keyward)], handler);
      const res = await request(app).get('/r').set(name, value.replace('{secret}', f.secret.token));
      expectContractAnswer(res, INVALID);
      expect(handler.runs).toBe(0);
    });

    it('answers conflicting_api_keys, not a crash, for many different repeated keys', async () => {
      const values = Array.from({ length: 50 }, (_, i) => `kw_sk_${i}`);
      const { res } = await send({ 'X-API-Key': values as unknown as string });
      expectContractAnswer(res, CONFLICT);
    });
  });

  describe('Sunset and Deprecation', () => {
    it('is set to the end of the grace period for a rolled key inside it', async () => {
      const f = await keywardFixture();
      await f.keyward.rollKey(ORG, f.secret.key.id, { gracePeriodSeconds: 3600 });
      f.clock.advance(1000);
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(f.keyward)], handler);

      const res = await request(app).get('/r').set('Authorization', `Bearer ${f.secret.token}`);

      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
      expect(res.headers.sunset).toBe(new Date(T0 + 3_600_000).toUTCString());
      expect(res.headers.sunset).toBe('Tue, 01 Jan 2030 01:00:00 GMT');
      // RFC 9745: the roll's unix seconds (2030-01-01T00:00:00Z), not the request's.
      expect(res.headers.deprecation).toBe(`@${T0 / 1000}`);
      expect(res.headers.deprecation).toBe('@1893456000');
    });

    it('is absent for the key that replaced a rolled key and for an active key', async () => {
      const f = await keywardFixture();
      const rolled = await f.keyward.rollKey(ORG, f.secret.key.id, { gracePeriodSeconds: 3600 });
      const app = appWith(express, [apiKeyAuth(f.keyward)], countingHandler());

      const replacement = await request(app).get('/r').set('Authorization', `Bearer ${rolled.token}`);
      const active = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expect(replacement.status).toBe(200);
      expect(replacement.headers.sunset).toBeUndefined();
      expect(replacement.headers.deprecation).toBeUndefined();
      expect(active.status).toBe(200);
      expect(active.headers.sunset).toBeUndefined();
      expect(active.headers.deprecation).toBeUndefined();
    });
  });

  describe.each(MOUNTS)('Sunset on a refusal after the key authenticated, %s', (_mount, mount) => {
    const SUNSET = 'Tue, 01 Jan 2030 01:00:00 GMT';

    it('is sent with 403 secret_key_required for a rolled public key inside its grace period', async () => {
      const f = await keywardFixture();
      await f.keyward.rollKey(ORG, f.publicKey.key.id, { gracePeriodSeconds: 3600 });
      const handler = countingHandler();
      const app = appWith(express, mount(f.keyward, { type: 'secret' }), handler);

      const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expectContractAnswer(res, { status: 403, code: 'secret_key_required', wwwAuthenticate: undefined });
      expect(res.headers.sunset).toBe(SUNSET);
      expect(res.headers.deprecation).toBe('@1893456000');
      expect(handler.runs).toBe(0);
    });

    it('is sent with 403 insufficient_scope for a rolled key inside its grace period', async () => {
      const f = await keywardFixture();
      await f.keyward.updateKey(ORG, f.secret.key.id, { scopes: ['snippets:read'] });
      await f.keyward.rollKey(ORG, f.secret.key.id, { gracePeriodSeconds: 3600 });
      const handler = countingHandler();
      const app = appWith(express, mount(f.keyward, { scopes: ['snippets:write'] }), handler);

      const res = await request(app).get('/r').set('Authorization', `Bearer ${f.secret.token}`);

      expectContractAnswer(res, {
        status: 403,
        code: 'insufficient_scope',
        wwwAuthenticate: undefined,
        required: ['snippets:write'],
      });
      expect(res.headers.sunset).toBe(SUNSET);
      expect(handler.runs).toBe(0);
    });

    it('is not sent with the same refusals for an active key', async () => {
      const f = await keywardFixture();
      const app = appWith(express, mount(f.keyward, { type: 'secret' }), countingHandler());

      const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expect(res.status).toBe(403);
      expect(res.headers.sunset).toBeUndefined();
    });
  });

  describe('freshness', () => {
    async function cachedApp(route = {}) {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(f.keyward, route)], handler);
      const first = await request(app).get('/r').set('X-API-Key', f.secret.token);
      const second = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(f.store.lookups).toBe(1); // the second request was answered from the cache
      return { f, app, handler };
    }

    it('refuses a cached key on the very next request after it is deleted', async () => {
      const { f, app, handler } = await cachedApp();
      await f.keyward.deleteKey(ORG, f.secret.key.id);
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expectContractAnswer(res, INVALID);
      expect(handler.runs).toBe(2);
    });

    it('refuses a cached key on the very next request after it is disabled', async () => {
      const { f, app, handler } = await cachedApp();
      await f.keyward.updateKey(ORG, f.secret.key.id, { disabled: true });
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expectContractAnswer(res, { ...INVALID, code: 'disabled_api_key' });
      expect(handler.runs).toBe(2);
    });

    it('refuses a cached key on the very next request after it loses a required scope', async () => {
      const { f, app, handler } = await cachedApp({ scopes: ['snippets:write'] });
      await f.keyward.updateKey(ORG, f.secret.key.id, { scopes: ['snippets:read'] });
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expectContractAnswer(res, {
        status: 403,
        code: 'insufficient_scope',
        wwwAuthenticate: undefined,
        required: ['snippets:write'],
      });
      expect(handler.runs).toBe(2);
    });

    it('keeps serving a cached key while the key store is unreachable', async () => {
      const { f, app, handler } = await cachedApp();
      f.store.fail = true;
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expect(res.status).toBe(200);
      expect(handler.runs).toBe(3);
    });
  });

  describe('errors', () => {
    it('lets onError take over the answer', async () => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const onError = vi.fn((error, _req, res) => {
        res.status(error.status).json({ problem: error.code });
      });
      const app = appWith(express, [apiKeyAuth(f.keyward, { onError })], handler);

      const res = await request(app).get('/r');

      expect(res.status).toBe(401);
      expect(res.body).toEqual({ problem: 'missing_api_key' });
      expect(onError).toHaveBeenCalledOnce();
      expect(handler.runs).toBe(0);
    });

    it('hands the error to keywardErrorHandler when onError calls next(error)', async () => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(
        express,
        [apiKeyAuth(f.keyward, { onError: (error, _req, _res, next) => next(error) })],
        handler,
        [keywardErrorHandler()],
      );

      const res = await request(app).get('/r').set('X-API-Key', 'nope');

      expectContractAnswer(res, INVALID);
      expect(handler.runs).toBe(0);
    });

    it.each<[string, AuthErrorHandler, string]>([
      [
        'throws',
        () => {
          throw new Error('onError broke');
        },
        'onError broke',
      ],
      ['rejects', async () => Promise.reject(new Error('async onError broke')), 'async onError broke'],
    ])('passes an onError that %s to the app error handler', async (_how, onError, message) => {
      const f = await keywardFixture();
      const app = appWith(express, [apiKeyAuth(f.keyward, { onError })], countingHandler());
      const res = await request(app).get('/r');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ unexpected: message });
    });

    it('passes a rejected verify to next(err) instead of leaving the request hanging', async () => {
      const f = await keywardFixture();
      const broken: Keyward = { ...f.keyward, verify: () => Promise.reject(new Error('verify broke')) };
      const handler = countingHandler();
      const app = appWith(express, [apiKeyAuth(broken)], handler);

      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);

      expect(res.status).toBe(500);
      expect(res.body).toEqual({ unexpected: 'verify broke' });
      expect(handler.runs).toBe(0);
    });

    it('leaves errors that are not KeywardErrors to the next error handler', async () => {
      const app = appWith(
        express,
        [
          (_req, _res, next) => {
            next(new Error('not ours'));
          },
        ],
        countingHandler(),
        [keywardErrorHandler()],
      );
      const res = await request(app).get('/r');
      expect(res.body).toEqual({ unexpected: 'not ours' });
    });
  });

  describe('guards without apiKeyAuth', () => {
    it.each([
      ['requireScopes', () => requireScopes('snippets:read')],
      ['requireSecretKey', () => requireSecretKey()],
    ])('%s fails closed with 401 missing_api_key', async (_name, guard) => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, [guard()], handler);
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expectContractAnswer(res, MISSING);
      expect(handler.runs).toBe(0);
    });

    it('uses the realm and onError given to a guard', async () => {
      const handler = countingHandler();
      const app = appWith(
        express,
        [
          requireSecretKey({
            realm: 'internal',
            onError: (error, _req, res) => {
              res.status(error.status).set(error.headers).json({ mine: error.code });
            },
          }),
        ],
        handler,
      );
      const res = await request(app).get('/r');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="internal"');
      expect(res.body).toEqual({ mine: 'missing_api_key' });
    });
  });

  it('lets requireScopes pass a key that holds every listed scope', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const app = appWith(
      express,
      [apiKeyAuth(f.keyward), requireScopes(['snippets:read', 'snippets:write'])],
      handler,
    );
    const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
    expect(res.status).toBe(200);
    expect(handler.runs).toBe(1);
  });

  it('re-checks the key when apiKeyAuth is mounted twice, and the stricter one wins', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const app = express();
    app.use(apiKeyAuth(f.keyward));
    app.get('/r', apiKeyAuth(f.keyward, { type: 'secret' }), handler);
    const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);
    expectContractAnswer(res, { status: 403, code: 'secret_key_required', wwwAuthenticate: undefined });
    expect(handler.runs).toBe(0);
  });
});

describe('options', () => {
  it('apiKeyAuth, requireScopes, requireSecretKey and keywardErrorHandler return named functions', async () => {
    const { keyward } = await keywardFixture();
    expect(apiKeyAuth(keyward).name).toBe('apiKeyAuth');
    expect(requireScopes('snippets:read').name).toBe('requireScopes');
    expect(requireSecretKey().name).toBe('requireSecretKey');
    const errorHandler: ErrorRequestHandler = keywardErrorHandler();
    expect(errorHandler.name).toBe('keywardErrorHandler');
    expect(errorHandler.length).toBe(4);
  });

  it.each([
    ['a missing Keyward service', undefined, undefined],
    ['an object that is not a Keyward service', { verify: 'no' }, undefined],
    ['options that are not an object', 'keyward', 'secret'],
    ['an unknown option (a typo must not leave a route open)', 'keyward', { scope: ['snippets:read'] }],
    ['a type other than secret', 'keyward', { type: 'public' }],
    ['scopes that are not an array of names', 'keyward', { scopes: [42] }],
    ['an empty scope name', 'keyward', { scopes: [''] }],
    ['a scope that is not in the Keyward catalog', 'keyward', { scopes: ['snippets:delete'] }],
    ['a header name with a space', 'keyward', { apiKeyHeader: 'X API Key' }],
    ['an empty header name', 'keyward', { authorizationHeader: '' }],
    ['a header name that is not a string', 'keyward', { authorizationHeader: 7 }],
    ['a header name Node cannot deliver (__proto__)', 'keyward', { apiKeyHeader: '__proto__' }],
    ['both headers turned off', 'keyward', { authorizationHeader: false, apiKeyHeader: false }],
    ['the same header twice', 'keyward', { authorizationHeader: 'x-api-key', apiKeyHeader: 'X-API-Key' }],
    ['a realm with a quote', 'keyward', { realm: 'a"b' }],
    ['an onError that is not a function', 'keyward', { onError: 'log' }],
  ])('apiKeyAuth throws TypeError at start-up for %s', async (_what, service, options) => {
    const { keyward } = await keywardFixture();
    const target = service === 'keyward' ? keyward : service;
    expect(() => apiKeyAuth(target as Keyward, options as never)).toThrow(TypeError);
  });

  it.each([
    ['no scopes', []],
    ['a scope that is not a string', [1]],
    ['an empty scope', ['']],
    ['a number', 5],
  ])('requireScopes throws TypeError for %s', (_what, scopes) => {
    expect(() => requireScopes(scopes as never)).toThrow(TypeError);
  });

  it('requireScopes and requireSecretKey throw TypeError for unknown options and a bad realm or onError', () => {
    expect(() => requireScopes('a', { realm: 'x', scopes: [] } as never)).toThrow(TypeError);
    expect(() => requireSecretKey({ realm: 'back\\slash' })).toThrow(TypeError);
    expect(() => requireSecretKey({ onError: 1 } as never)).toThrow(TypeError);
  });

  it('never mutates the caller options, and later changes to them do not change the middleware', async () => {
    const f = await keywardFixture();
    const scopes = ['snippets:read'];
    const options = Object.freeze({ scopes, realm: 'api' });
    const middleware = apiKeyAuth(f.keyward, options);
    scopes.push('snippets:write');
    const app = appWith(EXPRESS_VERSIONS[1][1], [middleware], countingHandler());

    const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

    expect(res.status).toBe(200);
    expect(options).toEqual({ scopes: ['snippets:read', 'snippets:write'], realm: 'api' });
  });

  it('calls verify once per request, without the route requirements: they requirements are checked after it', async () => {
    const f = await keywardFixture();
    const verify = vi.spyOn(f.keyward, 'verify');
    const app = appWith(
      EXPRESS_VERSIONS[1][1],
      [apiKeyAuth(f.keyward, { type: 'secret', scopes: ['snippets:write'] })],
      countingHandler(),
    );
    expect((await request(app).get('/r').set('X-API-Key', f.secret.token)).status).toBe(200);
    expect((await request(app).get('/r').set('X-API-Key', f.publicKey.token)).status).toBe(403);
    expect(verify).toHaveBeenCalledTimes(2);
    // No requirements: only the final outcome is this middleware's to count (docs/reference.md §9).
    expect(verify.mock.calls).toEqual([
      [f.secret.token, undefined, { count: 'refusals' }],
      [f.publicKey.token, undefined, { count: 'refusals' }],
    ]);
  });
});
