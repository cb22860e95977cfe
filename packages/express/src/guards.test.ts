import type { Keyward } from '@keyward/core';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { log } from './logger.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import {
  appWith,
  countingHandler,
  EXPRESS_VERSIONS,
  expectContractAnswer,
  keywardFixture,
  passportAuth,
} from './test-fixtures.js';

const TYPO = 'snippets:wirte';

/** Turns the `keyward:express` debug logger on for each test of the calling block and collects its lines. */
function captureLog(): string[] {
  const lines: string[] = [];
  const saved = { enabled: log.enabled, write: log.log };
  beforeEach(() => {
    lines.length = 0;
    log.enabled = true;
    log.log = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  });
  afterEach(() => {
    log.enabled = saved.enabled;
    log.log = saved.write;
  });
  return lines;
}

describe.each(EXPRESS_VERSIONS)('route guards on %s', (_version, express) => {
  describe('logging', () => {
    const lines = captureLog();

    it('logs an apiKeyAuth refusal (so the capture itself works)', async () => {
      const f = await keywardFixture();
      const app = appWith(express, [apiKeyAuth(f.keyward)], countingHandler());
      await request(app).get('/r').set('X-API-Key', 'kw_sk_nope');
      expect(lines.some((line) => line.includes('invalid_api_key'))).toBe(true);
    });

    it('logs the code of a requireScopes refusal, never the token', async () => {
      const f = await keywardFixture();
      const app = appWith(
        express,
        [apiKeyAuth(f.keyward), requireScopes('snippets:write')],
        countingHandler(),
      );

      const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expect(res.status).toBe(403);
      expect(lines.some((line) => line.includes('insufficient_scope'))).toBe(true);
      expect(lines.join('\n')).not.toContain(f.publicKey.token);
    });

    it('logs the code of a requireSecretKey refusal, never the token', async () => {
      const f = await keywardFixture();
      const app = appWith(express, [apiKeyAuth(f.keyward), requireSecretKey()], countingHandler());

      const res = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expect(res.status).toBe(403);
      expect(lines.some((line) => line.includes('secret_key_required'))).toBe(true);
      expect(lines.join('\n')).not.toContain(f.publicKey.token);
    });
  });

  describe('a scope outside the Keyward scope catalog', () => {
    const lines = captureLog();

    it('throws TypeError naming it at start-up when requireScopes is given { keyward }', async () => {
      const { keyward } = await keywardFixture();
      expect(() => requireScopes(TYPO, { keyward })).toThrow(TypeError);
      expect(() => requireScopes(['snippets:read', TYPO], { keyward })).toThrow(
        /unknown scope "snippets:wirte"/,
      );
    });

    it('guards as before with { keyward } and known scopes', async () => {
      const f = await keywardFixture();
      const handler = countingHandler();
      const app = appWith(
        express,
        [apiKeyAuth(f.keyward), requireScopes('snippets:write', { keyward: f.keyward })],
        handler,
      );

      const allowed = await request(app).get('/r').set('X-API-Key', f.secret.token);
      const refused = await request(app).get('/r').set('X-API-Key', f.publicKey.token);

      expect(allowed.status).toBe(200);
      expectContractAnswer(refused, {
        status: 403,
        code: 'insufficient_scope',
        wwwAuthenticate: undefined,
        required: ['snippets:write'],
      });
      expect(handler.runs).toBe(1);
    });

    it('throws TypeError at start-up for a keyward option that is not a Keyward service', () => {
      expect(() => requireScopes('snippets:read', { keyward: {} as Keyward })).toThrow(
        /keyward must be a Keyward service/,
      );
    });

    it.each([
      ['apiKeyAuth', (keyward: Keyward) => apiKeyAuth(keyward)],
      ['the Passport strategy', (keyward: Keyward) => passportAuth(keyward)],
    ])(
      'without { keyward }, is caught on a request authenticated by %s: next(TypeError), a 500 and a log line, not a 403',
      async (_by, authenticate) => {
        const f = await keywardFixture();
        const handler = countingHandler();
        const app = appWith(express, [authenticate(f.keyward), requireScopes(TYPO)], handler);

        for (const token of [f.secret.token, f.publicKey.token]) {
          const res = await request(app).get('/r').set('X-API-Key', token);
          expect(res.status).toBe(500);
          expect(res.body.unexpected).toMatch(/requireScopes: unknown scope "snippets:wirte"/);
        }
        expect(handler.runs).toBe(0);
        expect(lines.filter((line) => line.includes('unknown scope "snippets:wirte"'))).toHaveLength(2);
        expect(lines.join('\n')).not.toContain(f.secret.token);
      },
    );

    it('still answers 401 missing_api_key first when no key was sent', async () => {
      const f = await keywardFixture();
      const app = appWith(
        express,
        [apiKeyAuth(f.keyward, { onError: (_error, _req, _res, next) => next() }), requireScopes(TYPO)],
        countingHandler(),
      );
      const res = await request(app).get('/r');
      expectContractAnswer(res, {
        status: 401,
        code: 'missing_api_key',
        wwwAuthenticate: 'Bearer realm="api"',
      });
    });

    it('cannot be checked when req.apiKey was set by other middleware, and answers 403 as before', async () => {
      const handler = countingHandler();
      const app = appWith(
        express,
        [
          (req, _res, next) => {
            req.apiKey = {
              id: 'k',
              organizationId: 'o',
              name: 'n',
              type: 'secret',
              scopes: ['snippets:write'],
            };
            next();
          },
          requireScopes(TYPO),
        ],
        handler,
      );
      const res = await request(app).get('/r');
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('insufficient_scope');
      expect(handler.runs).toBe(0);
    });
  });
});
