import { gzipSync } from 'node:zlib';
import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import { headerAuthorize, MOUNT, SCOPES, setup, snapshot } from './test-app.js';

/** A setup whose `authorize` records its calls, with one secret key of org_a. */
async function guarded(options: Parameters<typeof setup>[0] = {}) {
  const authorize = vi.fn(headerAuthorize);
  const context = setup({ authorize, ...options });
  const { key } = await context.createKey();
  /** A request of a signed-in member of org_a, straight from supertest (no default content type). */
  const raw = (method: 'post' | 'patch' | 'delete' | 'get', path: string) =>
    request(context.app)
      [method](MOUNT + path)
      .set('x-org', 'org_a');
  const unchanged = async () => {
    expect(await snapshot(context.keyward, 'org_a', key.id)).toEqual(key);
    expect((await context.keyward.listKeys('org_a')).keys).toHaveLength(1);
  };
  return { ...context, authorize, key, raw, unchanged };
}

/** Every state-changing route, sent as a well-formed JSON request. */
const WRITES: Array<[string, 'post' | 'patch' | 'delete', (id: string) => string, object | undefined]> = [
  ['POST /', 'post', () => '', { name: 'Evil', type: 'secret' }],
  ['PATCH /:id', 'patch', (id) => `/${id}`, { disabled: true }],
  ['POST /:id/roll', 'post', (id) => `/${id}/roll`, { gracePeriodSeconds: 0 }],
  ['DELETE /:id', 'delete', (id) => `/${id}`, undefined],
];

function send(test: request.Test, body: object | undefined): request.Test {
  return body === undefined ? test : test.send(body);
}

describe('cross-site request forgery', () => {
  it('refuses an empty form POST to roll (what <form method=POST> sends) with 415, and rolls nothing', async () => {
    const { raw, key, unchanged, authorize } = await guarded();
    const res = await raw('post', `/${key.id}/roll`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .set('Content-Length', '0');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
    expect(authorize).not.toHaveBeenCalled();
    await unchanged();
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['no content type', undefined],
  ])('refuses an empty POST to roll with %s with 415', async (_label, type) => {
    const { raw, key, unchanged } = await guarded();
    const req = raw('post', `/${key.id}/roll`).set('Content-Length', '0');
    const res = await (type === undefined ? req : req.set('Content-Type', type));
    expect(res.status).toBe(415);
    await unchanged();
  });

  it('refuses an empty PATCH without a JSON content type with 415', async () => {
    const { raw, key, unchanged } = await guarded();
    const res = await raw('patch', `/${key.id}`).set('Content-Length', '0');
    expect(res.status).toBe(415);
    await unchanged();
  });

  it.each(WRITES)(
    '%s is refused with 403 when Sec-Fetch-Site says cross-site',
    async (_r, method, path, body) => {
      const { raw, key, unchanged, authorize } = await guarded();
      for (const site of ['cross-site', 'same-site']) {
        const res = await send(raw(method, path(key.id)).set('Sec-Fetch-Site', site), body);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
      }
      expect(authorize).not.toHaveBeenCalled();
      await unchanged();
    },
  );

  it.each(WRITES)('%s is refused with 403 from a foreign Origin', async (_r, method, path, body) => {
    const { raw, key, unchanged, authorize } = await guarded();
    for (const origin of [
      'https://evil.example',
      'http://admin.example.com:8080', // same host, another port: another origin (same site)
      'https://admin.example.com', // another scheme
      'http://sub.admin.example.com',
      'null',
    ]) {
      const res = await send(
        raw(method, path(key.id)).set('Host', 'admin.example.com').set('Origin', origin),
        body,
      );
      expect([origin, res.status, res.body.error?.code]).toEqual([origin, 403, 'forbidden']);
    }
    expect(authorize).not.toHaveBeenCalled();
    await unchanged();
  });

  it('refuses a foreign Origin even when Sec-Fetch-Site claims same-origin', async () => {
    const { raw, key, unchanged } = await guarded();
    const res = await raw('post', `/${key.id}/roll`)
      .set('Host', 'admin.example.com')
      .set('Origin', 'https://evil.example')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({});
    expect(res.status).toBe(403);
    await unchanged();
  });

  it('refuses a write when the request has no Host to compare the Origin with', async () => {
    const { raw, key, unchanged } = await guarded();
    const res = await raw('delete', `/${key.id}`).set('Host', '').set('Origin', 'http://admin.example.com');
    expect(res.status).toBe(403);
    await unchanged();
  });

  it.each(WRITES)('%s is accepted from its own origin', async (_r, method, path, body) => {
    const { raw, key } = await guarded();
    const res = await send(
      raw(method, path(key.id))
        .set('Host', 'admin.example.com')
        .set('Origin', 'http://admin.example.com')
        .set('Sec-Fetch-Site', 'same-origin'),
      body,
    );
    expect(res.status).toBeLessThan(300);
  });

  it('accepts its own origin with a default port written out, and Sec-Fetch-Site: none', async () => {
    const { raw, key } = await guarded();
    const res = await raw('post', `/${key.id}/roll`)
      .set('Host', 'admin.example.com:80')
      .set('Origin', 'http://admin.example.com')
      .set('Sec-Fetch-Site', 'none')
      .send({});
    expect(res.status).toBe(201);
  });

  it('judges requests with neither Origin nor Sec-Fetch-Site by the session alone', async () => {
    const { raw, key, authorize } = await guarded();
    const res = await raw('post', `/${key.id}/roll`).send({});
    expect(res.status).toBe(201);
    expect(authorize).toHaveBeenCalledTimes(1);
    const anonymous = await request((await guarded()).app)
      .post(`${MOUNT}/${key.id}/roll`)
      .send({});
    expect(anonymous.status).toBe(401);
  });

  it('lets cross-site reads through (the browser keeps their answers from the other site)', async () => {
    const { raw, key } = await guarded();
    const res = await raw('get', `/${key.id}`)
      .set('Origin', 'https://evil.example')
      .set('Sec-Fetch-Site', 'cross-site');
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it.each(WRITES)('%s is accepted from a trusted origin, even cross-site', async (_r, method, path, body) => {
    const { raw, key } = await guarded({ trustedOrigins: ['https://admin.example.com'] });
    const res = await send(
      raw(method, path(key.id))
        .set('Host', 'api.example.com')
        .set('Origin', 'https://admin.example.com')
        .set('Sec-Fetch-Site', 'same-site'),
      body,
    );
    expect(res.status).toBeLessThan(300);
  });

  it('trusts only the exact origins listed', async () => {
    const { raw, key, unchanged } = await guarded({ trustedOrigins: ['https://admin.example.com'] });
    for (const origin of [
      'http://admin.example.com',
      'https://admin.example.com:8443',
      'https://example.com',
    ]) {
      const res = await raw('post', `/${key.id}/roll`).set('Origin', origin).send({});
      expect([origin, res.status]).toEqual([origin, 403]);
    }
    await unchanged();
  });

  describe('behind a proxy', () => {
    const https = (trustProxy: boolean) =>
      guarded({ before: (app) => app.set('trust proxy', trustProxy) }).then((context) => ({
        ...context,
        roll: () =>
          context
            .raw('post', `/${context.key.id}/roll`)
            .set('Host', 'admin.example.com')
            .set('X-Forwarded-Proto', 'https')
            .set('Origin', 'https://admin.example.com')
            .send({}),
      }));

    it("takes the scheme from X-Forwarded-Proto when the app's trust proxy trusts the proxy", async () => {
      const { roll } = await https(true);
      expect((await roll()).status).toBe(201);
    });

    it('refuses the https origin when trust proxy is off (the request itself came over http)', async () => {
      const { roll, unchanged } = await https(false);
      expect((await roll()).status).toBe(403);
      await unchanged();
    });

    it('takes the host from X-Forwarded-Host when trusted, and only then', async () => {
      for (const trust of [true, false]) {
        const { raw, key } = await guarded({ before: (app) => app.set('trust proxy', trust) });
        const res = await raw('post', `/${key.id}/roll`)
          .set('Host', 'internal:3000')
          .set('X-Forwarded-Host', 'admin.example.com')
          .set('Origin', 'http://admin.example.com')
          .send({});
        expect([trust, res.status]).toEqual([trust, trust ? 201 : 403]);
      }
    });
  });
});

describe('Content-Type and Content-Encoding of writes', () => {
  it('rolls with {} sent as JSON, with or without a UTF-8 charset', async () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset="UTF-8"',
    ]) {
      const { raw, key } = await guarded();
      const res = await raw('post', `/${key.id}/roll`).set('Content-Type', type).send('{}');
      expect([type, res.status]).toEqual([type, 201]);
      expect(res.body.previous.id).toBe(key.id);
    }
  });

  it('deletes without any content type', async () => {
    const { raw, key, keyward } = await guarded();
    const res = await raw('delete', `/${key.id}`);
    expect(res.status).toBe(204);
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  const ENCODINGS = ['gzip', 'deflate', 'br', 'x-gzip', 'compress', 'GZIP', 'gzip, identity'];
  const ROUTES: Array<[string, 'post' | 'patch', (id: string) => string, string]> = [
    ['POST /', 'post', () => '', '{"name":"Zipped","type":"secret"}'],
    ['PATCH /:id', 'patch', (id) => `/${id}`, '{"disabled":true}'],
    ['POST /:id/roll', 'post', (id) => `/${id}/roll`, '{"gracePeriodSeconds":0}'],
  ];

  it.each(ROUTES)(
    '%s answers 415, never 500, to a plain body labelled as compressed',
    async (_r, method, path, body) => {
      const { raw, key, unchanged, authorize } = await guarded();
      for (const encoding of ENCODINGS) {
        const res = await raw(method, path(key.id))
          .set('Content-Type', 'application/json')
          .set('Content-Encoding', encoding)
          .send(body);
        expect([encoding, res.status, res.body.error?.code]).toEqual([
          encoding,
          415,
          'unsupported_media_type',
        ]);
      }
      expect(authorize).not.toHaveBeenCalled();
      await unchanged();
    },
  );

  it.each(ROUTES)(
    '%s answers 415 to a really gzipped body, and to an empty one labelled gzip',
    async (_r, method, path, body) => {
      const { raw, key, unchanged } = await guarded();
      const zipped = raw(method, path(key.id))
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip');
      zipped.write(gzipSync(body));
      expect((await zipped).status).toBe(415);
      const empty = await raw(method, path(key.id))
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .set('Content-Length', '0');
      expect(empty.status).toBe(415);
      await unchanged();
    },
  );

  it('answers 415 to a compressed body on DELETE too', async () => {
    const { raw, key, unchanged } = await guarded();
    const zipped = gzipSync('{}');
    const req = raw('delete', `/${key.id}`)
      .set('Content-Encoding', 'gzip')
      .set('Content-Length', String(zipped.length));
    req.write(zipped);
    expect((await req).status).toBe(415);
    await unchanged();
  });

  it('accepts Content-Encoding: identity', async () => {
    const { raw, key } = await guarded();
    const res = await raw('post', `/${key.id}/roll`).set('Content-Encoding', 'identity').send({});
    expect(res.status).toBe(201);
  });

  it('answers 415 to a compressed body even when the host app inflated and parsed it already', async () => {
    const { raw, key, unchanged } = await guarded({
      before: (app) => app.use(express.json()),
    });
    const req = raw('post', `/${key.id}/roll`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip');
    req.write(gzipSync('{"gracePeriodSeconds":0}'));
    const res = await req;
    expect(res.status).toBe(415);
    await unchanged();
  });
});

describe('the order of the checks', () => {
  it('answers a cross-site form post with 403 (the CSRF check comes first)', async () => {
    const { raw, key } = await guarded();
    const res = await raw('post', `/${key.id}/roll`)
      .set('Sec-Fetch-Site', 'cross-site')
      .set('Content-Type', 'text/plain')
      .set('Content-Encoding', 'gzip')
      .send('x');
    expect(res.status).toBe(403);
  });

  it('answers 415 before authorize: a non-JSON write from nobody signed in is a 415', async () => {
    const { app, key } = await guarded();
    const res = await request(app)
      .post(`${MOUNT}/${key.id}/roll`)
      .set('Content-Type', 'text/plain')
      .send('x');
    expect(res.status).toBe(415);
  });

  it('answers 401 before 413: the body is only read for a caller authorize accepted', async () => {
    const { app } = await guarded();
    const res = await request(app)
      .post(MOUNT)
      .set('Content-Type', 'application/json')
      .send(`{"name":"${'x'.repeat(20_000)}","type":"secret"}`);
    expect(res.status).toBe(401);
  });
});

describe('trustedOrigins', () => {
  const base = () => ({
    keyward: createKeyward({ store: new MemoryKeyStore(), scopes: SCOPES, pepper: TEST_PEPPER }),
    authorize: headerAuthorize,
  });

  it('accepts exact http and https origins, with a port', () => {
    expect(() =>
      createAdminRouter({
        ...base(),
        trustedOrigins: ['https://admin.example.com', 'http://localhost:5173', 'http://[::1]:3000'],
      }),
    ).not.toThrow();
  });

  it.each([
    ['a trailing slash', 'https://admin.example.com/'],
    ['a path', 'https://admin.example.com/app'],
    ['upper case', 'https://Admin.example.com'],
    ['a default port written out', 'https://admin.example.com:443'],
    ['no scheme', 'admin.example.com'],
    ['another scheme', 'ftp://admin.example.com'],
    ['null', 'null'],
    ['a wildcard', '*'],
    ['a wildcard host', 'https://*.example.com'],
    ['credentials', 'https://user@admin.example.com'],
    ['a number', 42],
    ['an empty string', ''],
  ])('throws a TypeError at start-up for %s', (_label, origin) => {
    expect(() => createAdminRouter({ ...base(), trustedOrigins: [origin as string] })).toThrow(TypeError);
  });

  it('throws a TypeError when it is not an array', () => {
    expect(() =>
      createAdminRouter({ ...base(), trustedOrigins: 'https://admin.example.com' as unknown as string[] }),
    ).toThrow(/trustedOrigins must be an array/);
  });

  it("does not mutate the caller's array", () => {
    const trustedOrigins = ['https://admin.example.com'];
    createAdminRouter({ ...base(), trustedOrigins });
    expect(trustedOrigins).toEqual(['https://admin.example.com']);
    expect(Object.isFrozen(trustedOrigins)).toBe(false);
  });
});
