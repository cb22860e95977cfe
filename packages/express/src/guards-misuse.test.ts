import type { Keyward } from '@keyward/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  appWith,
  countingHandler,
  EXPRESS_VERSIONS,
  expectContractAnswer,
  keywardFixture,
} from './test-fixtures.js';

// What a JavaScript app (or a TypeScript one: these compile) writes when it forgets the `()`.
const uncalled = (factory: unknown) => factory as RequestHandler;

describe.each(EXPRESS_VERSIONS)('a factory mounted without () on %s', (_version, express) => {
  it('requireSecretKey acts as requireSecretKey(): secret keys pass, public keys get 403', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const app = appWith(express, [apiKeyAuth(f.keyward), uncalled(requireSecretKey)], handler);

    const secret = await request(app).get('/r').set('X-API-Key', f.secret.token);
    const publicKey = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

    expect(secret.status).toBe(200);
    expectContractAnswer(publicKey, { status: 403, code: 'secret_key_required', wwwAuthenticate: undefined });
    expect(handler.runs).toBe(1);
  });

  it('requireSecretKey fails closed with 401 missing_api_key when nothing authenticated a key', async () => {
    const handler = countingHandler();
    const app = appWith(express, [uncalled(requireSecretKey)], handler);

    const res = await request(app).get('/r');

    expectContractAnswer(res, {
      status: 401,
      code: 'missing_api_key',
      wwwAuthenticate: 'Bearer realm="api"',
    });
    expect(handler.runs).toBe(0);
  });

  it.each([
    ['requireScopes', (keyward: Keyward) => [apiKeyAuth(keyward), uncalled(requireScopes)]],
    ['apiKeyAuth', () => [uncalled(apiKeyAuth)]],
  ])(
    '%s passes a TypeError saying how to call it to next(err), and never runs the handler',
    async (name, mount) => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(express, mount(f.keyward), handler);

      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);

      expect(res.status).toBe(500);
      expect(res.body.unexpected).toContain(`${name} was mounted without being called`);
      expect(handler.runs).toBe(0);
    },
  );

  it('keywardErrorHandler acts as keywardErrorHandler() instead of leaving requests hanging', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const onError = (error: unknown, _req: unknown, _res: unknown, next: (e: unknown) => void) => next(error);
    const app = appWith(express, [apiKeyAuth(f.keyward, { onError })], handler, [
      keywardErrorHandler as unknown as ErrorRequestHandler,
    ]);

    const refused = await request(app).get('/r').set('X-API-Key', 'kw_sk_nope');
    const passed = await request(app).get('/r').set('X-API-Key', f.secret.token);

    expectContractAnswer(refused, {
      status: 401,
      code: 'invalid_api_key',
      wwwAuthenticate: 'Bearer realm="api", error="invalid_token"',
    });
    expect(passed.status).toBe(200);
    expect(handler.runs).toBe(1);
  });
});

describe('start-up errors of misused factories', () => {
  it('requireScopes() without scopes throws a TypeError that says what to pass', () => {
    expect(() => (requireScopes as () => unknown)()).toThrow(TypeError);
    expect(() => (requireScopes as () => unknown)()).toThrow(/list the scopes the route requires/);
    expect(() => requireScopes([])).toThrow(/list the scopes the route requires/);
  });

  it('apiKeyAuth() without a service still throws TypeError', () => {
    expect(() => (apiKeyAuth as () => unknown)()).toThrow(/must be a Keyward service/);
    expect(() => apiKeyAuth({} as Keyward)).toThrow(TypeError);
  });
});
