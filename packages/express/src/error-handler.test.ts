import { createRequire } from 'node:module';
import * as esmCore from '@keyward/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { keywardErrorHandler } from './error-handler.js';
import { appWith, countingHandler, EXPRESS_VERSIONS, expectContractAnswer } from './test-fixtures.js';

// The same package as the app may load it: `import` gives the ESM build, `require` the CJS build. They are
// two different KeywardError classes, so `instanceof` alone misses the errors of one of them.
const cjsCore = createRequire(import.meta.url)('@keyward/core') as typeof esmCore;

const BUILDS = [
  ['the ESM build of @keyward/core', esmCore],
  ['the CJS build of @keyward/core', cjsCore],
] as const;

describe.each(EXPRESS_VERSIONS)('keywardErrorHandler on %s', (_version, express) => {
  it('sees two different KeywardError classes in the two builds (what the next tests rely on)', () => {
    expect(cjsCore.KeywardError).not.toBe(esmCore.KeywardError);
    expect(new cjsCore.KeywardError('not_found')).not.toBeInstanceOf(esmCore.KeywardError);
  });

  it.each(BUILDS)('answers a KeywardError made by %s with docs/reference.md answer', async (_build, core) => {
    const handler = countingHandler();
    const app = appWith(
      express,
      [(_req, _res, next) => next(new core.KeywardError('invalid_api_key', { realm: 'api' }))],
      handler,
      [keywardErrorHandler()],
    );

    const res = await request(app).get('/r');

    expectContractAnswer(res, {
      status: 401,
      code: 'invalid_api_key',
      wwwAuthenticate: 'Bearer realm="api", error="invalid_token"',
    });
    expect(handler.runs).toBe(0);
  });

  it.each(BUILDS)('answers a 503 from %s without its internals', async (_build, core) => {
    const app = appWith(
      express,
      [(_req, _res, next) => next(new core.KeyStoreUnavailableError(new Error('ECONNREFUSED 10.0.0.7')))],
      countingHandler(),
      [keywardErrorHandler()],
    );

    const res = await request(app).get('/r');

    expectContractAnswer(res, { status: 503, code: 'key_store_unavailable', wwwAuthenticate: undefined });
    expect(res.text).not.toContain('ECONNREFUSED');
  });

  it('passes on an error that only looks like a KeywardError (same name and code, no brand)', async () => {
    const impostor = Object.assign(new Error('x'), { name: 'KeywardError', code: 'invalid_api_key' });
    const app = appWith(express, [(_req, _res, next) => next(impostor)], countingHandler(), [
      keywardErrorHandler(),
    ]);

    const res = await request(app).get('/r');

    expect(res.status).toBe(500);
    expect(res.body).toEqual({ unexpected: 'x' });
  });
});
