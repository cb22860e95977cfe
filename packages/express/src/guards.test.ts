import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { log } from './logger.js';
import { requireScopes } from './require-scopes.js';
import { requireSecretKey } from './require-secret-key.js';
import { appWith, countingHandler, EXPRESS_VERSIONS, keywardFixture } from './test-fixtures.js';

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
});
