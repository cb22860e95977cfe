import { createKeyward, type Keyward, type KeywardOptions, type VerifyRequirements } from '@keyward/core';
import { generateToken } from '@keyward/core/store';
import { switchableStore, testClock } from '@keyward/core/testing';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express';
import express4 from 'express4';
import express5 from 'express5';
import passport from 'passport';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { type ApiKeyAuthOptions, apiKeyAuth } from './api-key-auth.js';
import { createPassportStrategy, type KeywardStrategyOptions } from './passport-strategy.js';

/** Both Express majors; every HTTP suite runs against each. */
export const EXPRESS_VERSIONS = [
  ['express 4', express4],
  ['express 5', express5],
] as const;

export type ExpressFactory = typeof express5;

export const ORG = 'org_test';
export const T0 = Date.parse('2030-01-01T00:00:00Z');
export { switchableStore, testClock };

/**
 * Fakes only `Date` at `now` for each test of the calling file or block (express-rate-limit's memory store
 * reads `Date.now()`), so sockets and timers stay real.
 */
export function fakeDateAt(now: number): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** A Keyward with the demo's catalog, a test clock, a switchable store, and one secret and one public key. */
export async function keywardFixture(overrides: Partial<KeywardOptions> = {}) {
  const clock = testClock();
  const { store, state } = switchableStore();
  const keyward = createKeyward({
    store,
    pepper: 'express-test-pepper-0123456789abcdef',
    scopes: ['snippets:read', 'snippets:write'],
    publicScopes: ['snippets:read'],
    clock: clock.now,
    ...overrides,
  });
  const secret = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
  const publicKey = await keyward.createKey(ORG, { name: 'Browser', type: 'public' });
  return { keyward, clock, store: state, secret, publicKey };
}

export type KeywardFixture = Awaited<ReturnType<typeof keywardFixture>>;

/** Exactly what `req.apiKey` (and Passport's default `req.user`) holds for the fixture's secret key. */
export function verifiedSecretKey(f: KeywardFixture) {
  return {
    id: f.secret.key.id,
    organizationId: ORG,
    name: 'Server',
    type: 'secret',
    scopes: ['snippets:read', 'snippets:write'],
    meta: null,
  };
}

/** A route handler that counts its runs and echoes what the middleware put on the request. */
export function countingHandler() {
  const handler = Object.assign(
    (req: Request, res: Response) => {
      handler.runs++;
      handler.seen = { apiKey: req.apiKey, user: (req as { user?: unknown }).user };
      res.json({ apiKey: req.apiKey ?? null });
    },
    { runs: 0, seen: undefined as { apiKey: unknown; user: unknown } | undefined },
  );
  return handler;
}

/** An app with `GET /r` behind `middleware`, then `handler`, and an error handler that reports 500s. */
export function appWith(
  express: ExpressFactory,
  middleware: RequestHandler[],
  handler: RequestHandler,
  errorHandlers: ErrorRequestHandler[] = [],
): Express {
  const app = express();
  app.get('/r', ...middleware, handler);
  for (const errorHandler of errorHandlers) app.use(errorHandler);
  app.use(((err, _req, res, _next) => {
    res.status(500).json({ unexpected: err instanceof Error ? err.message : String(err) });
  }) as ErrorRequestHandler);
  return app;
}

/** `authenticate('keyward', { session: false })` of a fresh Passport that uses only the Keyward strategy. */
export function passportAuth(keyward: Keyward, options: KeywardStrategyOptions = {}): RequestHandler {
  const authenticator = new passport.Passport();
  authenticator.use(createPassportStrategy(keyward, options));
  return authenticator.authenticate('keyward', { session: false });
}

/** The two ways an app mounts the key middleware; suites that hold for both run once per mount. */
export type Mount = 'apiKeyAuth' | 'passport';

/** The key middleware mounted as `mount`, with the options both mounts take. */
export function keyMiddleware(
  mount: Mount,
  keyward: Keyward,
  options: ApiKeyAuthOptions & KeywardStrategyOptions = {},
): RequestHandler {
  return mount === 'apiKeyAuth' ? apiKeyAuth(keyward, options) : passportAuth(keyward, options);
}

/** Asserts that no token appears anywhere in a response (status line aside). */
export function expectNoToken(
  res: { text: string; headers: Record<string, unknown> },
  tokens: string[],
): void {
  for (const token of tokens) {
    expect(res.text).not.toContain(token);
    expect(JSON.stringify(res.headers)).not.toContain(token);
  }
}

/** One row of docs/reference.md §2: how to provoke it and the exact answer. */
export interface ContractCase {
  situation: string;
  route: VerifyRequirements & { type?: 'secret' };
  /** Prepares the fixture and returns the request's headers. */
  arrange: (f: KeywardFixture) => Promise<Record<string, string>>;
  status: number;
  code: string;
  wwwAuthenticate: string | undefined;
  required?: string[];
}

const CHALLENGE = 'Bearer realm="api", error="invalid_token"';

export const CONTRACT_CASES: ContractCase[] = [
  {
    situation: 'no key',
    route: {},
    arrange: async () => ({}),
    status: 401,
    code: 'missing_api_key',
    wwwAuthenticate: 'Bearer realm="api"',
  },
  {
    situation: 'a malformed key',
    route: {},
    arrange: async (f) => ({ 'X-API-Key': `${f.secret.token.slice(0, -1)}!` }),
    status: 401,
    code: 'invalid_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'a key with a wrong checksum',
    route: {},
    arrange: async (f) => ({
      Authorization: `Bearer ${f.secret.token.slice(0, -1)}${f.secret.token.endsWith('0') ? '1' : '0'}`,
    }),
    status: 401,
    code: 'invalid_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'an unknown key',
    route: {},
    arrange: async () => ({ Authorization: `Bearer ${generateToken('kw', 'secret')}` }),
    status: 401,
    code: 'invalid_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'a deleted key',
    route: {},
    arrange: async (f) => {
      await f.keyward.deleteKey(ORG, f.secret.key.id);
      return { Authorization: `Bearer ${f.secret.token}` };
    },
    status: 401,
    code: 'invalid_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'a key past its expiresAt',
    route: {},
    arrange: async (f) => {
      const { token } = await f.keyward.createKey(ORG, {
        name: 'Short',
        type: 'secret',
        expiresAt: new Date(f.clock.now() + 60_000),
      });
      f.clock.advance(60_000);
      return { Authorization: `Bearer ${token}` };
    },
    status: 401,
    code: 'expired_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'a rolled key after its grace period',
    route: {},
    arrange: async (f) => {
      await f.keyward.rollKey(ORG, f.secret.key.id, { gracePeriodSeconds: 60 });
      f.clock.advance(60_000);
      return { Authorization: `Bearer ${f.secret.token}` };
    },
    status: 401,
    code: 'expired_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'a disabled key',
    route: {},
    arrange: async (f) => {
      await f.keyward.updateKey(ORG, f.secret.key.id, { disabled: true });
      return { 'X-API-Key': f.secret.token };
    },
    status: 401,
    code: 'disabled_api_key',
    wwwAuthenticate: CHALLENGE,
  },
  {
    situation: 'two different keys in one request',
    route: {},
    arrange: async (f) => ({ Authorization: `Bearer ${f.secret.token}`, 'X-API-Key': f.publicKey.token }),
    status: 400,
    code: 'conflicting_api_keys',
    wwwAuthenticate: undefined,
  },
  {
    situation: 'a public key on a route that requires a secret key',
    route: { type: 'secret' },
    arrange: async (f) => ({ Authorization: `Bearer ${f.publicKey.token}` }),
    status: 403,
    code: 'secret_key_required',
    wwwAuthenticate: undefined,
  },
  {
    situation: 'a key that lacks a scope the route requires',
    route: { scopes: ['snippets:write'] },
    arrange: async (f) => ({ 'X-API-Key': f.publicKey.token }),
    status: 403,
    code: 'insufficient_scope',
    wwwAuthenticate: undefined,
    required: ['snippets:write'],
  },
  {
    situation: 'an uncached key while the key store is unreachable',
    route: {},
    arrange: async (f) => {
      f.store.fail = true;
      return { Authorization: `Bearer ${f.secret.token}` };
    },
    status: 503,
    code: 'key_store_unavailable',
    wwwAuthenticate: undefined,
  },
];

/** Every token a fixture knows, to check none leaks. */
export function tokensOf(f: KeywardFixture, headers: Record<string, string>): string[] {
  const fromHeaders = Object.values(headers).map((v) => v.replace(/^Bearer\s+/i, ''));
  return [f.secret.token, f.publicKey.token, ...fromHeaders].filter((t) => t.length > 8);
}

/** Asserts a documented answer: status, code, message, `required`, and `WWW-Authenticate` (or its absence). */
export function expectContractAnswer(
  res: { status: number; body: unknown; headers: Record<string, string | undefined> },
  expected: Pick<ContractCase, 'status' | 'code' | 'wwwAuthenticate' | 'required'>,
): void {
  expect(res.status).toBe(expected.status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const error: Record<string, unknown> = { code: expected.code, message: expect.any(String) };
  if (expected.required) error.required = expected.required;
  expect(res.body).toEqual({ error });
  expect(res.headers['www-authenticate']).toBe(expected.wwwAuthenticate);
}
