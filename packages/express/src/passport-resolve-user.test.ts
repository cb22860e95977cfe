import type { VerifiedKey } from '@keyward/core';
import type { Request } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { keywardErrorHandler } from './error-handler.js';
import { createPassportStrategy, type UserResolver } from './passport.js';
import { requireScopes } from './require-scopes.js';
import {
  appWith,
  countingHandler,
  EXPRESS_VERSIONS,
  type ExpressFactory,
  expectContractAnswer,
  type KeywardFixture,
  keywardFixture,
  ORG,
  passportAuth,
} from './test-fixtures.js';

/** The app's own users, keyed by organization, as a passport-headerapikey app keeps them. */
const ACCOUNTS = new Map([[ORG, { _id: 'acct_1', permissionLevel: 2 }]]);

function appWithResolver(express: ExpressFactory, f: KeywardFixture, resolveUser: UserResolver) {
  const handler = countingHandler();
  const app = appWith(
    express,
    [passportAuth(f.keyward, { resolveUser }), requireScopes('snippets:read', { keyward: f.keyward })],
    handler,
    [keywardErrorHandler()],
  );
  return { app, handler };
}

describe.each(EXPRESS_VERSIONS)('the Passport strategy with resolveUser on %s', (_version, express) => {
  it.each([
    ['synchronously', (key: VerifiedKey) => ACCOUNTS.get(key.organizationId)],
    ['with a promise', async (key: VerifiedKey) => ACCOUNTS.get(key.organizationId)],
  ])('sets req.user to the app user found %s, and req.apiKey to the key', async (_how, find) => {
    const f = await keywardFixture();
    const calls: { key: VerifiedKey; apiKeyOnRequest: unknown }[] = [];
    const resolveUser: UserResolver = (key, req: Request) => {
      calls.push({ key, apiKeyOnRequest: req.apiKey });
      return find(key);
    };
    const { app, handler } = appWithResolver(express, f, resolveUser);
    // Twice: the second request is served from the verify cache, which must ask resolveUser too.
    for (let i = 0; i < 2; i++) {
      const res = await request(app).get('/r').set('Authorization', `Bearer ${f.publicKey.token}`);
      expect(res.status).toBe(200);
      expect(res.body.apiKey.id).toBe(f.publicKey.key.id);
    }
    expect(handler.runs).toBe(2);
    expect(handler.seen?.user).toEqual({ _id: 'acct_1', permissionLevel: 2 });
    expect((handler.seen as { apiKey: VerifiedKey }).apiKey.id).toBe(f.publicKey.key.id);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.key.id).toBe(f.publicKey.key.id);
    expect(calls[1]?.apiKeyOnRequest).toBe(calls[1]?.key);
  });

  it.each([
    ['null', () => null],
    ['undefined', () => undefined],
    ['a promise of false', async () => false as const],
  ])(
    'refuses with 401 invalid_api_key and runs no route when resolveUser answers %s',
    async (_what, resolveUser) => {
      const f = await keywardFixture();
      const { app, handler } = appWithResolver(express, f, resolveUser);
      const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
      expectContractAnswer(res, {
        status: 401,
        code: 'invalid_api_key',
        wwwAuthenticate: 'Bearer realm="api", error="invalid_token"',
      });
      expect(handler.runs).toBe(0);
    },
  );

  it.each([
    [
      'throws',
      () => {
        throw new Error('accounts down');
      },
    ],
    ['rejects', async () => Promise.reject(new Error('accounts down'))],
  ])('passes the error to next(err) when resolveUser %s', async (_what, resolveUser) => {
    const f = await keywardFixture();
    const { app, handler } = appWithResolver(express, f, resolveUser as UserResolver);
    const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ unexpected: 'accounts down' });
    expect(handler.runs).toBe(0);
  });

  it('is not asked for a refused key', async () => {
    const f = await keywardFixture();
    let calls = 0;
    const { app } = appWithResolver(express, f, () => {
      calls++;
      return { id: 'u' };
    });
    await f.keyward.updateKey(ORG, f.secret.key.id, { disabled: true });
    const res = await request(app).get('/r').set('X-API-Key', f.secret.token);
    expect(res.body.error.code).toBe('disabled_api_key');
    expect(calls).toBe(0);
  });

  it('keeps req.user the key itself when resolveUser is not set', async () => {
    const f = await keywardFixture();
    const handler = countingHandler();
    const app = appWith(express, [passportAuth(f.keyward)], handler, [keywardErrorHandler()]);
    await request(app).get('/r').set('X-API-Key', f.secret.token).expect(200);
    expect(handler.seen?.user).toBe(handler.seen?.apiKey);
  });
});

it('throws TypeError at start-up for a resolveUser that is not a function', async () => {
  const f = await keywardFixture();
  expect(() => createPassportStrategy(f.keyward, { resolveUser: 'accounts' as never })).toThrow(TypeError);
});
