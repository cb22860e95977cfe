import type { Keyward } from '@keyward/core';
import type { RequestHandler } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { keywardErrorHandler } from './error-handler.js';
import { createKeyLimiter } from './key-limiter.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  appWith,
  countingHandler,
  EXPRESS_VERSIONS,
  keywardFixture,
  ORG,
  passportAuth,
} from './test-fixtures.js';

/**
 * Property tests over HTTP: whatever a client puts in the headers the middleware reads (any number of
 * lines, any bytes Node lets through, odd whitespace, huge values; `Origin` and `Referer` too), the answer
 * is never a 5xx and is exactly the documented answer, as computed by `expected` below from docs/reference.md §2 and §6.
 */

const RUNS = { numRuns: 120 };

/** Bytes a client can send in a header value through Node: HTAB, printable ASCII and Latin-1. */
const VALUE_CHAR = fc.oneof(
  fc.constantFrom('\t', ' '),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);

/** Header names Node or HTTP give a meaning of their own; an app would not read a key from them. */
const RESERVED = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'accept-encoding',
  'cookie',
  'set-cookie',
  'expect',
  'upgrade',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
]);

const HEADER_NAME = fc
  .stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,24}$/)
  // `__proto__` is refused at start-up: Node's header objects cannot hold it.
  .filter((name) => !RESERVED.has(name) && name !== '__proto__');

type Route = 'any' | 'secret' | 'write';
type Mount = 'one-step' | 'split guards' | 'passport';

interface Known {
  /** What verify makes of the token: the key's type, or the refusal. */
  outcome: 'secret' | 'public' | 'disabled_api_key' | 'expired_api_key' | 'invalid_api_key';
  sunset: boolean;
  /** A public key bound to `BOUND_ORIGINS`. */
  bound?: boolean;
}

const BOUND_ORIGINS = ['https://app.example.com', 'https://*.example.org'];

/** Contract §6 for `BOUND_ORIGINS`, written independently of the middleware's matcher. */
function originAllowed(origin: string | undefined, referer: string | undefined): boolean {
  let value = ows(origin ?? '');
  if (value === '') {
    const ref = ows(referer ?? '');
    value = ref !== '' && URL.canParse(ref) ? new URL(ref).origin : '';
  }
  const lower = value.toLowerCase();
  return (
    lower === 'https://app.example.com' ||
    /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.example\.org$/.test(lower)
  );
}

/** One fixture per test: a secret and a public key, plus a rolled, a disabled, an expired and a deleted one. */
async function fixture() {
  const f = await keywardFixture();
  const rolledPublic = await f.keyward.createKey(ORG, { name: 'Rolled', type: 'public' });
  await f.keyward.rollKey(ORG, rolledPublic.key.id, { gracePeriodSeconds: 3600 });
  const disabled = await f.keyward.createKey(ORG, { name: 'Off', type: 'secret' });
  await f.keyward.updateKey(ORG, disabled.key.id, { disabled: true });
  const expired = await f.keyward.createKey(ORG, {
    name: 'Old',
    type: 'secret',
    expiresAt: new Date(f.clock.now() + 1000),
  });
  const bound = await f.keyward.createKey(ORG, {
    name: 'Bound',
    type: 'public',
    allowedOrigins: BOUND_ORIGINS,
  });
  const deleted = await f.keyward.createKey(ORG, { name: 'Gone', type: 'secret' });
  await f.keyward.deleteKey(ORG, deleted.key.id);
  f.clock.advance(1000);
  const known = new Map<string, Known>([
    [f.secret.token, { outcome: 'secret', sunset: false }],
    [f.publicKey.token, { outcome: 'public', sunset: false }],
    [rolledPublic.token, { outcome: 'public', sunset: true }],
    [disabled.token, { outcome: 'disabled_api_key', sunset: false }],
    [expired.token, { outcome: 'expired_api_key', sunset: false }],
    [deleted.token, { outcome: 'invalid_api_key', sunset: false }],
    [bound.token, { outcome: 'public', sunset: false, bound: true }],
  ]);
  return { f, known, tokens: [...known.keys()], boundToken: bound.token };
}

/** Fragments that make the interesting values likely: the tokens, schemes, separators, whitespace. */
function valueArbitrary(tokens: string[], maxLength = 120) {
  const fragment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...tokens) },
    {
      weight: 3,
      arbitrary: fc.constantFrom('Bearer ', 'bearer\t', 'BEARER  ', 'Basic ', 'Bearer', ' ', '\t', ', ', ','),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom('\u00a0', '\u0085', '\u00ad', '\u00ff', '\u00e9', 'kw_sk_', 'kw_pk_'),
    },
    { weight: 2, arbitrary: fc.string({ unit: VALUE_CHAR, maxLength: 12 }) },
    // A token with one character changed or cut.
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...tokens), fc.nat(), VALUE_CHAR)
        .map(([t, i, c]) => `${t.slice(0, i % t.length)}${c}${t.slice((i % t.length) + 1)}`),
    },
  );
  // Long runs of one character (spaces, tabs, `A`, Latin-1) for the huge values.
  const filler = fc.tuple(VALUE_CHAR, fc.integer({ min: 1, max: maxLength })).map(([c, n]) => c.repeat(n));
  const part = maxLength > 1000 ? fc.oneof(fragment, filler) : fragment;
  return fc.array(part, { maxLength: 4 }).map((parts) => parts.join('').slice(0, maxLength));
}

interface Sent {
  authorizationHeader: string | false;
  apiKeyHeader: string | false;
  lines: { name: string; values: string[] }[];
  route: Route;
  mount: Mount;
  origin: string | undefined;
  referer: string | undefined;
}

/** RFC 9110 optional whitespace: SP and HTAB only. */
const ows = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** The answer docs/reference.md §2 (and the package README on header parsing) asks for, computed independently. */
function expected(sent: Sent, known: Map<string, Known>) {
  const auth = sent.authorizationHeader === false ? null : sent.authorizationHeader.toLowerCase();
  const api = sent.apiKeyHeader === false ? null : sent.apiKeyHeader.toLowerCase();
  const tokens = new Set<string>();
  for (const { name, values } of sent.lines) {
    for (const raw of values) {
      const value = ows(raw);
      if (name.toLowerCase() === auth) {
        const [, scheme = value, rest = ''] = /^([^ \t]*)[ \t]+(.*)$/s.exec(value) ?? [];
        if (scheme.toLowerCase() === 'bearer' && ows(rest) !== '') tokens.add(ows(rest));
      } else if (name.toLowerCase() === api && value !== '') {
        tokens.add(value);
      }
    }
  }
  if (tokens.size === 0) return { status: 401, code: 'missing_api_key' };
  if (tokens.size > 1) return { status: 400, code: 'conflicting_api_keys' };
  const [token] = tokens as unknown as [string];
  const key: Known = known.get(token) ?? { outcome: 'invalid_api_key', sunset: false };
  if (key.outcome !== 'secret' && key.outcome !== 'public') return { status: 401, code: key.outcome };
  const originRefused = key.bound === true && !originAllowed(sent.origin, sent.referer);
  const refusedOrigin = { status: 403, code: 'origin_not_allowed', sunset: key.sunset };
  // The split guards check type and scopes after apiKeyAuth, which checks origins: origins come first there.
  if (sent.mount === 'split guards' && originRefused) return refusedOrigin;
  if (sent.route === 'secret' && key.outcome === 'public') {
    return { status: 403, code: 'secret_key_required', sunset: key.sunset };
  }
  if (sent.route === 'write' && key.outcome === 'public') {
    return { status: 403, code: 'insufficient_scope', sunset: key.sunset };
  }
  if (originRefused) return refusedOrigin;
  return { status: 200, code: null, sunset: key.sunset };
}

function middleware(keyward: Keyward, sent: Sent): RequestHandler[] {
  // A limiter per request: the invalid-key throttle would otherwise turn later runs into 429s.
  const limiter = createKeyLimiter();
  const source = { authorizationHeader: sent.authorizationHeader, apiKeyHeader: sent.apiKeyHeader, limiter };
  const needs =
    sent.route === 'secret'
      ? { type: 'secret' as const }
      : sent.route === 'write'
        ? { scopes: ['snippets:write'] }
        : {};
  const guards =
    sent.route === 'secret'
      ? [requireSecretKey()]
      : sent.route === 'write'
        ? [requireScopes('snippets:write')]
        : [];
  if (sent.mount === 'one-step') return [apiKeyAuth(keyward, { ...source, ...needs })];
  if (sent.mount === 'split guards') return [apiKeyAuth(keyward, source), ...guards];
  return [passportAuth(keyward, { ...source, ...needs })];
}

/** Origins and Referers: allowed, wildcard, look-alikes, URLs, odd case and whitespace, any bytes. */
const originValue = fc.oneof(
  fc.constantFrom(
    'https://app.example.com',
    'HTTPS://App.Example.COM',
    ' https://a.example.org\t',
    'https://example.org',
    'https://a.example.org.evil.net',
    'https://a.example.org:8443',
    'https://app.example.com/path?q=1#x',
    'null',
    '',
    'https://user:pw@app.example.com/',
    'file:///etc/passwd',
    'http://[::1]:3000/',
  ),
  fc.webUrl(),
  fc.string({ unit: VALUE_CHAR, maxLength: 40 }),
);

function sentArbitrary(tokens: string[], valueLength?: number) {
  const names = fc
    .record({
      authorizationHeader: fc.oneof(fc.constant('Authorization'), HEADER_NAME, fc.constant(false as const)),
      apiKeyHeader: fc.oneof(fc.constant('X-API-Key'), HEADER_NAME, fc.constant(false as const)),
    })
    .filter(
      ({ authorizationHeader: a, apiKeyHeader: k }) =>
        !(a === false && k === false) && (a === false || k === false || a.toLowerCase() !== k.toLowerCase()),
    );
  return names.chain(({ authorizationHeader, apiKeyHeader }) => {
    const readable = [authorizationHeader, apiKeyHeader].filter((n): n is string => n !== false);
    const line = fc.record({
      // Mostly the headers read; sometimes the other default one, or an unrelated header.
      name: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...readable) },
        { weight: 1, arbitrary: fc.constantFrom('Authorization', 'X-API-Key', 'x-api-key', 'AUTHORIZATION') },
        { weight: 1, arbitrary: HEADER_NAME },
      ),
      // Huge values go one at a time: Node refuses more than 16 kB of headers with 431 (tested elsewhere).
      values: fc.array(valueArbitrary(tokens, valueLength), { minLength: 1, maxLength: valueLength ? 1 : 3 }),
    });
    return fc.record({
      authorizationHeader: fc.constant(authorizationHeader),
      apiKeyHeader: fc.constant(apiKeyHeader),
      lines: fc.uniqueArray(line, {
        maxLength: valueLength ? 1 : 3,
        selector: (l) => l.name.toLowerCase(),
      }),
      route: fc.constantFrom<Route>('any', 'secret', 'write'),
      mount: fc.constantFrom<Mount>('one-step', 'split guards', 'passport'),
      origin: fc.option(originValue, { nil: undefined }),
      referer: fc.option(originValue, { nil: undefined }),
    });
  });
}

describe.each(EXPRESS_VERSIONS)('hostile headers on %s', (_version, express) => {
  async function check(valueLength?: number, onlyBound = false) {
    const { f, known, tokens, boundToken } = await fixture();
    // The bound key, sent cleanly in one of the two headers, with any Origin and Referer.
    const bound = fc.record({
      authorizationHeader: fc.constant('Authorization'),
      apiKeyHeader: fc.constant('X-API-Key'),
      lines: fc
        .constantFrom('Authorization', 'X-API-Key')
        .map((name) => [{ name, values: [name === 'Authorization' ? `Bearer ${boundToken}` : boundToken] }]),
      route: fc.constantFrom<Route>('any', 'secret', 'write'),
      mount: fc.constantFrom<Mount>('one-step', 'split guards', 'passport'),
      origin: fc.option(originValue, { nil: undefined }),
      referer: fc.option(originValue, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(onlyBound ? bound : sentArbitrary(tokens, valueLength), async (sent: Sent) => {
        const handler = countingHandler();
        const app = appWith(express, middleware(f.keyward, sent), handler, [keywardErrorHandler()]);
        let req = request(app).get('/r');
        for (const { name, values } of sent.lines) {
          req = req.set(name, (values.length === 1 ? values[0] : values) as string);
        }
        if (sent.origin !== undefined) req = req.set('Origin', sent.origin);
        if (sent.referer !== undefined) req = req.set('Referer', sent.referer);
        const res = await req;
        const want = expected(sent, known);

        expect(res.status).toBeLessThan(500);
        expect(res.status).toBe(want.status);
        expect(handler.runs).toBe(want.status === 200 ? 1 : 0);
        if (want.code !== null) expect(res.body).toMatchObject({ error: { code: want.code } });
        expect(res.headers.sunset !== undefined).toBe(want.sunset === true);
        for (const token of tokens) expect(res.text).not.toContain(token);
      }),
      RUNS,
    );
  }

  it('never answers 5xx and answers exactly as docs/reference.md says, for any mix of header lines', async () => {
    await check();
  });

  it('does the same for single values of up to 12,000 characters', async () => {
    await check(12_000);
  });

  it('does the same for a key bound to origins under any Origin and Referer', async () => {
    await check(undefined, true);
  });
});
