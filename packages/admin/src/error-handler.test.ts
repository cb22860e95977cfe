import { createRequire } from 'node:module';
import { type KeyStore, KeyStoreUnavailableError, KeywardError, MemoryKeyStore } from '@keyward/core';
import type { StoredKey } from '@keyward/core/store';
import type { Request, Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import { createErrorHandler, toKeywardError } from './error-handler.js';
import { EVERY_ROUTE, setup } from './test-app.js';

const SECRET_DETAIL = 'mongodb://admin:hunter2@db.internal:27017';

/** A store whose every read returns records with a corrupt `expiresAt` (a string instead of a Date). */
function corruptStore(): KeyStore {
  const inner = new MemoryKeyStore();
  const corrupt = (key: StoredKey | null) => (key ? { ...key, expiresAt: 'soon' as unknown as Date } : null);
  return {
    insert: (key) => inner.insert(key),
    findByHash: async (hash) => corrupt(await inner.findByHash(hash)),
    findById: async (org, id) => corrupt(await inner.findById(org, id)),
    findBySlot: async (slot) => corrupt(await inner.findBySlot(slot)),
    list: async (org) => (await inner.list(org)).map((key) => corrupt(key) as StoredKey),
    update: async (org, id, changes, conditions) => corrupt(await inner.update(org, id, changes, conditions)),
  };
}

/** A store that works until `down` is set, then fails every call like an unreachable database. */
function flakyStore() {
  const inner = new MemoryKeyStore();
  const state = { down: false };
  const call =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (state.down) throw new Error(`connect ECONNREFUSED ${SECRET_DETAIL}`);
      return fn(...args);
    };
  const store: KeyStore = {
    insert: call((k) => inner.insert(k)),
    findByHash: call((h) => inner.findByHash(h)),
    findById: call((o, i) => inner.findById(o, i)),
    findBySlot: call((s) => inner.findBySlot(s)),
    list: call((o) => inner.list(o)),
    update: call((o, i, c, x) => inner.update(o, i, c, x)),
  };
  return { store, state };
}

describe('server-side faults', () => {
  it.each(EVERY_ROUTE)(
    '%s answers 503 key_store_unavailable without internals when the store is down',
    async (_r, send) => {
      const { store, state } = flakyStore();
      const { api, createKey } = setup({ store });
      const { key } = await createKey();
      state.down = true;
      const res = await send(api, key.id);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: { code: 'key_store_unavailable', message: expect.any(String) } });
      expect(res.text).not.toMatch(/hunter2|ECONNREFUSED|stack|at /);
    },
  );

  it.each(EVERY_ROUTE.filter(([route]) => !['POST /', 'DELETE /:id'].includes(route)))(
    '%s answers 500 internal_error without internals when the store returns a corrupt record',
    async (_r, send) => {
      const { api, createKey } = setup({ store: corruptStore() });
      const { key } = await createKey();
      const res = await send(api, key.id);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        error: { code: 'internal_error', message: 'Something went wrong on our side.' },
      });
      expect(res.text).not.toMatch(/getTime|TypeError|stack|\.ts|\.js/);
    },
  );

  it('answers 500 without internals when the service throws an unexpected error', async () => {
    const { api, keyward } = setup();
    vi.spyOn(keyward, 'listKeys').mockRejectedValue(new RangeError(`invalid ${SECRET_DETAIL}`));
    const res = await api.get();
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
    expect(res.text).not.toContain('hunter2');
  });

  it('answers 500 without internals when the service throws a non-Error value', async () => {
    const { api, keyward } = setup();
    vi.spyOn(keyward, 'getKey').mockRejectedValue(SECRET_DETAIL);
    const res = await api.get('/key_0123456789ABCDEFGHIJ');
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('hunter2');
  });
});

describe('bodies the parser cannot read', () => {
  it.each([
    ['gzip', 'not gzip at all'],
    ['deflate', 'not deflate either'],
    ['br', '{"name":"A","type":"secret"}'],
    ['x-garbage', '{"name":"A","type":"secret"}'],
  ])(
    'answers a body sent with Content-Encoding: %s that does not decode with a 4xx, never 500',
    async (encoding, text) => {
      const { api, keyward } = setup();
      const res = await api
        .post('')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send(text);
      expect([400, 415]).toContain(res.status);
      expect(res.body.error.code).toMatch(/^(validation_error|unsupported_media_type)$/);
      expect(res.text).not.toMatch(/incorrect header check|zlib|stack/i);
      expect((await keyward.listKeys('org_a')).keys).toEqual([]);
    },
  );
});

describe('response headers', () => {
  it.each(EVERY_ROUTE)('%s answers with Cache-Control: no-store', async (_r, send) => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await send(api, key.id);
    expect(res.status).toBeLessThan(300);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('answers errors with Cache-Control: no-store', async () => {
    const { api, as } = setup();
    for (const res of [await as(null).get(), await api.get('/nope'), await api.post('', { bad: 1 })]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it.each(EVERY_ROUTE)('%s sends no CORS headers, even to a cross-origin request', async (_r, send) => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await send(api, key.id).set('Origin', 'https://evil.example');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('answers no CORS preflight', async () => {
    const { app } = setup();
    const { default: request } = await import('supertest');
    const res = await request(app)
      .options('/api/keys')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });
});

describe('toKeywardError', () => {
  it('keeps a KeywardError as it is', () => {
    const error = new KeywardError('conflict');
    expect(toKeywardError(error)).toBe(error);
  });

  it('keeps a KeywardError of the other build of @keyward/core (told by its brand) as it is', () => {
    const cjs = createRequire(import.meta.url)('@keyward/core') as typeof import('@keyward/core');
    const foreign = new cjs.KeywardError('not_found');
    expect(foreign).not.toBeInstanceOf(KeywardError);
    const mapped = toKeywardError(foreign);
    expect(mapped.status).toBe(404);
    expect(mapped.toJSON()).toEqual({ error: { code: 'not_found', message: 'No such API key.' } });
  });

  it('does not trust an error that only claims to be a KeywardError with an unknown code', () => {
    const fake = Object.assign(new Error('x'), { name: 'KeywardError', code: 'owned' });
    expect(toKeywardError(fake).code).toBe('internal_error');
  });

  it('maps the store being unavailable to 503', () => {
    expect(toKeywardError(new KeyStoreUnavailableError()).status).toBe(503);
  });

  it.each([
    ['entity.too.large', 413, 'payload_too_large'],
    ['entity.parse.failed', 400, 'validation_error'],
    ['charset.unsupported', 415, 'unsupported_media_type'],
    ['encoding.unsupported', 415, 'unsupported_media_type'],
    ['request.aborted', 400, 'validation_error'],
    ['request.size.invalid', 400, 'validation_error'],
    ['stream.not.readable', 500, 'internal_error'],
    ['stream.encoding.set', 500, 'internal_error'],
  ])('maps the body parser error %s (status %i) to %s', (type, status, code) => {
    const error = Object.assign(new Error('raw message'), { type, status, expose: status < 500 });
    expect(toKeywardError(error).code).toBe(code);
    expect(JSON.stringify(toKeywardError(error))).not.toContain('raw message');
  });

  it('maps a path that cannot be decoded to not_found', () => {
    expect(toKeywardError(new URIError("Failed to decode param '%E0'")).code).toBe('not_found');
  });

  it('maps any client error (a 4xx status or statusCode) to a 4xx code, without its message', () => {
    const cases: Array<[object, string]> = [
      // body-parser on a body it cannot inflate: status 400 and no `type` (it used to answer 500).
      [
        Object.assign(new Error('incorrect header check (internal detail)'), { status: 400, expose: true }),
        'validation_error',
      ],
      [
        Object.assign(new Error('unsupported content encoding "br2"'), { statusCode: 415 }),
        'unsupported_media_type',
      ],
      [Object.assign(new Error('too big'), { status: 413, expose: true }), 'payload_too_large'],
      [Object.assign(new Error('Forbidden'), { status: 403, expose: true }), 'forbidden'],
      [Object.assign(new Error('Unauthorized'), { status: 401 }), 'unauthorized'],
      [Object.assign(new Error('Not Found'), { status: 404 }), 'not_found'],
      [Object.assign(new Error('Conflict'), { status: 409 }), 'conflict'],
      [Object.assign(new Error('Length Required'), { status: 411 }), 'validation_error'],
      [{ status: 400 }, 'validation_error'],
    ];
    for (const [thrown, code] of cases) {
      const mapped = toKeywardError(thrown);
      expect(mapped.code).toBe(code);
      expect(mapped.status).toBeLessThan(500);
      const body = JSON.stringify(mapped.toJSON());
      expect(body).not.toMatch(/internal detail|br2|too big|Length Required/);
      if (code === 'validation_error') expect(mapped.details).toHaveLength(1);
    }
  });

  it('maps anything else to internal_error', () => {
    const notClient = [
      new Error('boom'),
      'boom',
      null,
      undefined,
      { status: 500 },
      { status: 400, expose: false },
      { status: '400' },
      { status: 399 },
      { statusCode: 400.5 },
    ];
    for (const thrown of notClient) {
      expect(toKeywardError(thrown).code).toBe('internal_error');
    }
  });

  it('leaves an error after the headers were sent to Express', () => {
    const handler = createErrorHandler();
    const next = vi.fn();
    const res = { headersSent: true, status: vi.fn() } as unknown as Response;
    const error = new Error('late');
    handler(error, {} as Request, res, next);
    expect(next).toHaveBeenCalledWith(error);
    expect(res.status).not.toHaveBeenCalled();
  });
});
