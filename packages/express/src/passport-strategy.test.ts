import type { Keyward, KeywardError } from '@keyward/core';
import type { RequestHandler } from 'express';
import passport from 'passport';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { keywardErrorHandler } from './error-handler.js';
import { createPassportStrategy, type KeywardStrategyOptions } from './passport.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  appWith,
  CONTRACT_CASES,
  countingHandler,
  EXPRESS_VERSIONS,
  type ExpressFactory,
  expectContractAnswer,
  expectNoToken,
  keywardFixture,
  ORG,
  passportAuth,
  tokensOf,
  verifiedSecretKey,
} from './test-fixtures.js';

/** A fresh Passport with the Keyward strategy; `GET /r` behind `passport.authenticate('keyward', ...)`. */
function passportApp(
  express: ExpressFactory,
  keyward: Keyward,
  options: KeywardStrategyOptions = {},
  { guards = [] as RequestHandler[], errorHandler = true } = {},
) {
  const handler = countingHandler();
  const app = appWith(
    express,
    [passportAuth(keyward, options), ...guards],
    handler,
    errorHandler ? [keywardErrorHandler()] : [],
  );
  return { app, handler };
}

describe('createPassportStrategy', () => {
  it('is a real HeaderAPIKeyStrategy of passport-headerapikey named keyward', async () => {
    const { keyward } = await keywardFixture();
    const strategy = createPassportStrategy(keyward);
    expect(strategy).toBeInstanceOf(HeaderAPIKeyStrategy);
    expect(strategy.name).toBe('keyward');
    expect(createPassportStrategy(keyward, { name: 'keyward-secret' }).name).toBe('keyward-secret');
  });

  it.each([
    ['a missing Keyward service', undefined, {}],
    ['an unknown option', 'keyward', { session: false }],
    ['an empty name', 'keyward', { name: '' }],
    ['a name with a space', 'keyward', { name: 'api key' }],
    ['a type other than secret', 'keyward', { type: 'public' }],
    ['a scope that is not in the Keyward catalog', 'keyward', { scopes: ['snippets:delete'] }],
    ['both headers turned off', 'keyward', { authorizationHeader: false, apiKeyHeader: false }],
    ['a realm with a backslash', 'keyward', { realm: 'a\\b' }],
  ])('throws TypeError at start-up for %s', async (_what, service, options) => {
    const { keyward } = await keywardFixture();
    const target = service === 'keyward' ? keyward : service;
    expect(() => createPassportStrategy(target as Keyward, options as never)).toThrow(TypeError);
  });

  it('never mutates the caller options', async () => {
    const { keyward } = await keywardFixture();
    const options = Object.freeze({ scopes: Object.freeze(['snippets:read']), name: 'k' });
    expect(() => createPassportStrategy(keyward, options)).not.toThrow();
    expect(options).toEqual({ scopes: ['snippets:read'], name: 'k' });
  });
});

describe.each(EXPRESS_VERSIONS)(
  'passport.authenticate("keyward", { session: false }) on %s',
  (_version, express) => {
    it.each(CONTRACT_CASES)(
      'answers $situation with $status $code and does not run the handler',
      async (row) => {
        const f = await keywardFixture();
        const headers = await row.arrange(f);
        const { app, handler } = passportApp(express, f.keyward, row.route);

        const res = await request(app).get('/r').set(headers);

        expectContractAnswer(res, row);
        expect(handler.runs).toBe(0);
        expectNoToken(res, tokensOf(f, headers));
      },
    );

    it.each(CONTRACT_CASES)(
      'answers $situation the same way when the route guards follow passport',
      async (row) => {
        const f = await keywardFixture();
        const headers = await row.arrange(f);
        const guards = [
          ...(row.route.type ? [requireSecretKey()] : []),
          ...(row.route.scopes ? [requireScopes(row.route.scopes)] : []),
        ];
        const { app, handler } = passportApp(express, f.keyward, {}, { guards });

        const res = await request(app).get('/r').set(headers);

        expectContractAnswer(res, row);
        expect(handler.runs).toBe(0);
      },
    );

    it('puts the key on req.user and req.apiKey, without the token, and runs the handler once', async () => {
      const f = await keywardFixture();
      const { app, handler } = passportApp(express, f.keyward, {
        type: 'secret',
        scopes: ['snippets:write'],
      });

      const res = await request(app).get('/r').set('Authorization', `Bearer ${f.secret.token}`);

      expect(res.status).toBe(200);
      expect(handler.runs).toBe(1);
      const expected = verifiedSecretKey(f);
      expect(handler.seen?.user).toEqual(expected);
      expect(handler.seen?.apiKey).toBe(handler.seen?.user);
      expect(JSON.stringify(handler.seen)).not.toContain(f.secret.token);
      expectNoToken(res, [f.secret.token, f.publicKey.token]);
    });

    it('accepts the same key in both headers and answers conflicting_api_keys for two different ones', async () => {
      const f = await keywardFixture();
      const { app, handler } = passportApp(express, f.keyward);

      const same = await request(app)
        .get('/r')
        .set({ Authorization: `bearer ${f.publicKey.token}`, 'X-API-Key': f.publicKey.token });
      const different = await request(app)
        .get('/r')
        .set({ Authorization: `Bearer ${f.publicKey.token}`, 'X-API-Key': f.secret.token });

      expect(same.status).toBe(200);
      expectContractAnswer(different, {
        status: 400,
        code: 'conflicting_api_keys',
        wwwAuthenticate: undefined,
      });
      expect(handler.runs).toBe(1);
    });

    it('sets the Sunset and Deprecation headers for a rolled key inside its grace period, and not for its replacement', async () => {
      const f = await keywardFixture();
      const rolled = await f.keyward.rollKey(ORG, f.secret.key.id, { gracePeriodSeconds: 7200 });
      const { app } = passportApp(express, f.keyward);

      const old = await request(app).get('/r').set('X-API-Key', f.secret.token);
      const replacement = await request(app).get('/r').set('X-API-Key', rolled.token);

      expect(old.status).toBe(200);
      expect(old.headers.sunset).toBe('Tue, 01 Jan 2030 02:00:00 GMT');
      expect(old.headers.deprecation).toBe('@1893456000');
      expect(replacement.status).toBe(200);
      expect(replacement.headers.sunset).toBeUndefined();
      expect(replacement.headers.deprecation).toBeUndefined();
    });

    it('sets the Sunset header on a 403 for a rolled key refused by the strategy options', async () => {
      const f = await keywardFixture();
      await f.keyward.rollKey(ORG, f.publicKey.key.id, { gracePeriodSeconds: 3600 });
      const { app, handler } = passportApp(express, f.keyward, { type: 'secret' });

      const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expectContractAnswer(res, { status: 403, code: 'secret_key_required', wwwAuthenticate: undefined });
      expect(res.headers.sunset).toBe('Tue, 01 Jan 2030 01:00:00 GMT');
      expect(res.headers.deprecation).toBe('@1893456000');
      expect(handler.runs).toBe(0);
    });

    it('refuses a cached key on the very next request after it is deleted', async () => {
      const f = await keywardFixture();
      const { app, handler } = passportApp(express, f.keyward);
      expect((await request(app).get('/r').set('X-API-Key', f.secret.token)).status).toBe(200);

      await f.keyward.deleteKey(ORG, f.secret.key.id);
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);

      expectContractAnswer(res, {
        status: 401,
        code: 'invalid_api_key',
        wwwAuthenticate: 'Bearer realm="api", error="invalid_token"',
      });
      expect(handler.runs).toBe(1);
    });

    it('still gets the status and WWW-Authenticate right from Express’s own error handler without keywardErrorHandler', async () => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = express();
      app.get('/r', passportAuth(f.keyward), handler);

      const res = await request(app).get('/r').set('X-API-Key', 'kw_sk_nope');

      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
      expect(handler.runs).toBe(0);
    });

    it('gives a custom authenticate callback the KeywardError', async () => {
      const f = await keywardFixture();
      const authenticator = new passport.Passport();
      authenticator.use(createPassportStrategy(f.keyward));
      const app = express();
      app.get('/r', (req, res, next) => {
        authenticator.authenticate(
          'keyward',
          { session: false },
          (err: KeywardError | null, user: unknown) => {
            res.json({ code: err?.code ?? null, status: err?.status ?? null, user: user ?? null });
          },
        )(req, res, next);
      });

      const res = await request(app).get('/r');

      expect(res.body).toEqual({ code: 'missing_api_key', status: 401, user: null });
    });
  },
);
