import type { Keyward } from '@keyward/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import type { KeySourceOptions } from './options.js';
import { createPassportStrategy } from './passport.js';
import {
  appWith,
  countingHandler,
  EXPRESS_VERSIONS,
  type ExpressFactory,
  expectContractAnswer,
  keywardFixture,
  passportAuth,
} from './test-fixtures.js';

const MISSING = { status: 401, code: 'missing_api_key', wwwAuthenticate: 'Bearer realm="api"' };
const CONFLICT = { status: 400, code: 'conflicting_api_keys', wwwAuthenticate: undefined };

/** A JWT as a sign-in library would send it (three base64url parts): never a Keyward key. */
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1XzEiLCJpYXQiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLW5vdC1jaGVja2Vk';

type Build = (
  express: ExpressFactory,
  keyward: Keyward,
  options: KeySourceOptions,
) => ReturnType<typeof appWith>;

const MIDDLEWARES: [string, Build][] = [
  [
    'apiKeyAuth',
    (express, keyward, options) => appWith(express, [apiKeyAuth(keyward, options)], countingHandler()),
  ],
  [
    'the Passport strategy',
    (express, keyward, options) =>
      appWith(express, [passportAuth(keyward, options)], countingHandler(), [keywardErrorHandler()]),
  ],
];

describe.each(EXPRESS_VERSIONS)('where the key is read, on %s', (_version, express) => {
  describe.each(MIDDLEWARES)('with %s', (_name, build) => {
    it('accepts Authorization: Api-Key <key> when the scheme is configured, besides Bearer', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, { schemes: ['Bearer', 'Api-Key'] });
      for (const value of [
        `Api-Key ${f.secret.token}`,
        `api-key  ${f.secret.token}`,
        `Bearer ${f.secret.token}`,
      ]) {
        const res = await request(app).get('/r').set('Authorization', value);
        expect(res.status).toBe(200);
        expect(res.body.apiKey.id).toBe(f.secret.key.id);
      }
    });

    it('answers missing_api_key to Authorization: Api-Key <key> by default (only Bearer is read)', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, {});
      expectContractAnswer(
        await request(app).get('/r').set('Authorization', `Api-Key ${f.secret.token}`),
        MISSING,
      );
    });

    it('keeps the conflict rule across schemes and the API-key header', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, { schemes: ['Api-Key'] });
      const same = await request(app)
        .get('/r')
        .set({ Authorization: `Api-Key ${f.secret.token}`, 'X-API-Key': f.secret.token });
      expect(same.status).toBe(200);
      const different = await request(app)
        .get('/r')
        .set({ Authorization: `Api-Key ${f.secret.token}`, 'X-API-Key': f.publicKey.token });
      expectContractAnswer(different, CONFLICT);
    });

    it('reads several API-key headers, one token in any of them', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, { apiKeyHeader: ['X-API-Key', 'Api-Key'] });
      expect((await request(app).get('/r').set('Api-Key', f.secret.token)).status).toBe(200);
      expect((await request(app).get('/r').set('X-API-Key', f.secret.token)).status).toBe(200);
      const two = await request(app)
        .get('/r')
        .set({ 'Api-Key': f.secret.token, 'X-API-Key': f.publicKey.token });
      expectContractAnswer(two, CONFLICT);
    });

    it('lets a JWT app keep Authorization: Bearer for sign-in and take the key from X-API-Key', async () => {
      const f = await keywardFixture();
      const headers = { Authorization: `Bearer ${JWT}`, 'X-API-Key': f.secret.token };
      // By default the JWT is read as a second, different key.
      expectContractAnswer(
        await request(build(express, f.keyward, {}))
          .get('/r')
          .set(headers),
        CONFLICT,
      );
      for (const options of [{ authorizationHeader: false as const }, { schemes: [] }]) {
        const res = await request(build(express, f.keyward, options))
          .get('/r')
          .set(headers);
        expect(res.status).toBe(200);
        expect(res.body.apiKey.id).toBe(f.secret.key.id);
        // The JWT alone is no key; the challenge names the header the key goes in, not Bearer.
        expectContractAnswer(
          await request(build(express, f.keyward, options))
            .get('/r')
            .set('Authorization', `Bearer ${JWT}`),
          { ...MISSING, wwwAuthenticate: 'ApiKey realm="api", header="X-API-Key"' },
        );
      }
    });

    it('challenges a 401 with every accepted scheme, Bearer with its RFC 6750 error', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, { schemes: ['Bearer', 'Api-Key'], realm: 'snippets' });
      expectContractAnswer(await request(app).get('/r'), {
        ...MISSING,
        wwwAuthenticate: 'Bearer realm="snippets", Api-Key realm="snippets"',
      });
      expectContractAnswer(await request(app).get('/r').set('Authorization', 'Api-Key kw_sk_nope'), {
        status: 401,
        code: 'invalid_api_key',
        wwwAuthenticate: 'Bearer realm="snippets", error="invalid_token", Api-Key realm="snippets"',
      });
      const apiKeyOnly = build(express, f.keyward, { schemes: ['Api-Key'] });
      expectContractAnswer(await request(apiKeyOnly).get('/r'), {
        ...MISSING,
        wwwAuthenticate: 'Api-Key realm="api"',
      });
    });

    it('challenges header-only extraction with the headers the key is read from', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, {
        authorizationHeader: false,
        apiKeyHeader: ['X-Snippets-Key', 'X-API-Key'],
      });
      expectContractAnswer(await request(app).get('/r').set('X-Snippets-Key', 'kw_sk_nope'), {
        status: 401,
        code: 'invalid_api_key',
        wwwAuthenticate:
          'ApiKey realm="api", header="X-Snippets-Key", ApiKey realm="api", header="X-API-Key"',
      });
      // The default (Bearer, and X-API-Key beside it) keeps the documented Bearer challenge.
      expectContractAnswer(await request(build(express, f.keyward, {})).get('/r'), MISSING);
    });

    it("reads the key with the app's getKey instead of the headers", async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, {
        getKey: (req) => {
          const cookie = req.headers['x-legacy'];
          return typeof cookie === 'string' ? cookie.replace(/^token=/, '') : undefined;
        },
      });
      const res = await request(app)
        .get('/r')
        .set({ 'X-Legacy': `token=${f.secret.token}`, 'X-API-Key': 'ignored' });
      expect(res.status).toBe(200);
      expectContractAnswer(await request(app).get('/r').set('X-API-Key', f.secret.token), MISSING);
    });

    it('answers conflicting_api_keys when getKey finds two different keys', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, { getKey: () => [f.secret.token, ` ${f.publicKey.token}`] });
      expectContractAnswer(await request(app).get('/r'), CONFLICT);
    });

    it('hands a getKey that throws to the error handlers, and runs no route', async () => {
      const f = await keywardFixture();
      const app = build(express, f.keyward, {
        getKey: () => {
          throw new Error('getKey broke');
        },
      });
      const res = await request(app).get('/r');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ unexpected: 'getKey broke' });
    });
  });

  it.each([
    ['a scheme that is not a token', { schemes: ['Api Key'] }],
    ['schemes that are not an array', { schemes: 'Bearer' }],
    ['schemes with authorizationHeader turned off', { authorizationHeader: false, schemes: ['Api-Key'] }],
    ['no scheme and no API-key header', { schemes: [], apiKeyHeader: false }],
    ['an empty list of API-key headers and no scheme', { schemes: [], apiKeyHeader: [] }],
    ['an API-key header list with a non-string', { apiKeyHeader: ['X-API-Key', false] }],
    ['the Authorization header among the API-key headers', { apiKeyHeader: ['X-API-Key', 'authorization'] }],
    ['a getKey that is not a function', { getKey: 'x-api-key' }],
    ['getKey beside a header option', { getKey: (): undefined => undefined, apiKeyHeader: 'X-Key' }],
    ['getKey beside schemes', { getKey: (): undefined => undefined, schemes: ['Bearer'] }],
  ])('throws TypeError at start-up for %s', async (_what, options) => {
    const { keyward } = await keywardFixture();
    expect(() => apiKeyAuth(keyward, options as never)).toThrow(TypeError);
    expect(() => createPassportStrategy(keyward, options as never)).toThrow(TypeError);
  });
});
