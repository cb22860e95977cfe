import { execFileSync } from 'node:child_process';
import { KeyStoreUnavailableError, KeywardError } from '@keyward/core';
import { keySchema, MAX_NAME_INPUT_LENGTH, NAME_PATTERN, NAME_PORTABLE_PATTERN } from '@keyward/core/schemas';
import express from 'express';
import request, { type Response } from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import { MAX_BODY_BYTES } from './body.js';
import { allowedMethods } from './method-not-allowed.js';
import { createOpenApiDocument } from './openapi.js';
import { headerAuthorize, MOUNT, PUBLIC_SCOPES, SCOPES, setup } from './test-app.js';
import { componentResponseValidator, documentValidator, type Method } from './test-openapi.js';

type Context = ReturnType<typeof setup>;

/** A key of each type for `org_a`; the public one is rolled-able, both are listed. */
async function keys(context: Context) {
  const secret = await context.createKey('org_a', {
    name: 'Server',
    type: 'secret',
    expiresAt: '2031-01-01T00:00:00Z',
  });
  const pub = await context.createKey('org_a', { name: 'Website', type: 'public' });
  return { secret: secret.key.id, pub: pub.key.id };
}

/** A GET repeated with the `ETag` of the first answer: Express answers 304. */
async function notModified(c: Context, path: string): Promise<Response> {
  const first = await c.api.get(path);
  expect(first.headers.etag).toEqual(expect.any(String));
  return c.api.get(path).set('If-None-Match', first.headers.etag as string);
}

type ServiceMethod =
  | 'listKeys'
  | 'createKey'
  | 'getKey'
  | 'updateKey'
  | 'rollKey'
  | 'deleteKey'
  | 'listEvents'
  | 'keyUsage'
  | 'usage'
  | 'nonCompliantKeys'
  | 'getCredits'
  | 'setCredits';
type Run = (c: Context) => Promise<Response>;

/** `run`, with the service method `method` rejecting: a bug (500) or the store being down (503). */
function failing(method: ServiceMethod, fault: 'bug' | 'down', run: Run): Run {
  return (c) => {
    vi.spyOn(c.keyward, method).mockRejectedValue(
      fault === 'bug' ? new TypeError('bug') : new KeyStoreUnavailableError(),
    );
    return run(c);
  };
}

/** `run` with a secret and a public key of `org_a` in place. */
function withKeys(run: (c: Context, ids: { secret: string; pub: string }) => Promise<Response>): Run {
  return async (c) => run(c, await keys(c));
}

/** `run` once `org_a` has used its 120 writes of the minute (the router's default `writesPerMinute`). */
function overWriteCap(run: Run): Run {
  return async (c) => {
    for (let i = 0; i < 120; i++) await c.api.delete(UNKNOWN);
    return run(c);
  };
}

const UNKNOWN = '/key_0123456789ABCDEFGHIJ';
const tooLarge = JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) });
const json = 'application/json';

/** One real exchange for every documented response of every operation. */
const SCENARIOS: Array<[Method, string, number, Run]> = [
  ['get', '/', 200, withKeys((c) => c.api.get('?limit=1'))],
  ['get', '/', 304, withKeys((c) => notModified(c, ''))],
  ['get', '/', 400, (c) => c.api.get('?cursor=forged')],
  ['get', '/', 401, (c) => c.as(null).get()],
  ['get', '/', 403, (c) => c.api.get().set('x-deny', 'forbidden')],
  ['get', '/', 500, failing('listKeys', 'bug', (c) => c.api.get())],
  ['get', '/', 503, failing('listKeys', 'down', (c) => c.api.get())],

  ['post', '/', 201, (c) => c.api.post('', { name: 'New', type: 'public', scopes: ['snippets:read'] })],
  ['post', '/', 400, (c) => c.api.post('', { name: '', type: 'root', extra: true })],
  ['post', '/', 401, (c) => c.as(null).post('', { name: 'New', type: 'secret' })],
  ['post', '/', 403, (c) => c.api.post('', { name: 'New', type: 'secret' }).set('x-deny', 'forbidden')],
  [
    'post',
    '/',
    409,
    (c) => {
      vi.spyOn(c.keyward, 'idempotent').mockRejectedValue(new KeywardError('conflict'));
      return c.api.post('', { name: 'N', type: 'secret' }).set('Idempotency-Key', 'k');
    },
  ],
  [
    'post',
    '/',
    422,
    async (c) => {
      await c.api.post('', { name: 'N', type: 'secret' }).set('Idempotency-Key', 'k');
      return c.api.post('', { name: 'M', type: 'secret' }).set('Idempotency-Key', 'k');
    },
  ],
  ['post', '/', 413, (c) => c.api.post('').set('Content-Type', json).send(tooLarge)],
  ['post', '/', 415, (c) => c.api.post('').set('Content-Type', 'text/plain').send('name=New')],
  ['post', '/', 429, overWriteCap((c) => c.api.post('', { name: 'N', type: 'secret' }))],
  ['post', '/', 500, failing('createKey', 'bug', (c) => c.api.post('', { name: 'N', type: 'secret' }))],
  ['post', '/', 503, failing('createKey', 'down', (c) => c.api.post('', { name: 'N', type: 'secret' }))],

  ['get', '/{id}', 200, withKeys((c, { pub }) => c.api.get(`/${pub}`))],
  ['get', '/{id}', 304, withKeys((c, { pub }) => notModified(c, `/${pub}`))],
  ['get', '/{id}', 401, (c) => c.as(null).get(UNKNOWN)],
  ['get', '/{id}', 403, (c) => c.api.get(UNKNOWN).set('x-deny', 'forbidden')],
  ['get', '/{id}', 404, (c) => c.api.get(UNKNOWN)],
  ['get', '/{id}', 500, failing('getKey', 'bug', (c) => c.api.get(UNKNOWN))],
  ['get', '/{id}', 503, failing('getKey', 'down', (c) => c.api.get(UNKNOWN))],

  [
    'patch',
    '/{id}',
    200,
    withKeys((c, { secret }) => c.api.patch(`/${secret}`, { disabled: true, expiresAt: null })),
  ],
  ['patch', '/{id}', 400, withKeys((c, { pub }) => c.api.patch(`/${pub}`, { scopes: ['snippets:write'] }))],
  ['patch', '/{id}', 401, (c) => c.as(null).patch(UNKNOWN, { name: 'A' })],
  ['patch', '/{id}', 403, (c) => c.api.patch(UNKNOWN, { name: 'A' }).set('x-deny', 'forbidden')],
  ['patch', '/{id}', 404, (c) => c.api.patch(UNKNOWN, { name: 'A' })],
  [
    'patch',
    '/{id}',
    409,
    withKeys(async (c, { secret }) => {
      await c.keyward.rollKey('org_a', secret);
      return c.api.patch(`/${secret}`, { expiresAt: null });
    }),
  ],
  [
    'patch',
    '/{id}',
    412,
    withKeys((c, { secret }) => c.api.patch(`/${secret}`, { name: 'A' }).set('If-Match', '"7"')),
  ],
  ['patch', '/{id}', 413, (c) => c.api.patch(UNKNOWN).set('Content-Type', json).send(tooLarge)],
  ['patch', '/{id}', 415, (c) => c.api.patch(UNKNOWN).set('Content-Type', 'text/csv').send('a,b')],
  ['patch', '/{id}', 429, overWriteCap((c) => c.api.patch(UNKNOWN, { name: 'A' }))],
  ['patch', '/{id}', 500, failing('updateKey', 'bug', (c) => c.api.patch(UNKNOWN, { name: 'A' }))],
  ['patch', '/{id}', 503, failing('updateKey', 'down', (c) => c.api.patch(UNKNOWN, { name: 'A' }))],

  [
    'post',
    '/{id}/roll',
    201,
    withKeys((c, { pub }) => c.api.post(`/${pub}/roll`, { gracePeriodSeconds: 60 })),
  ],
  ['post', '/{id}/roll', 400, (c) => c.api.post(`${UNKNOWN}/roll`, { gracePeriodSeconds: -1 })],
  ['post', '/{id}/roll', 401, (c) => c.as(null).post(`${UNKNOWN}/roll`, {})],
  ['post', '/{id}/roll', 403, (c) => c.api.post(`${UNKNOWN}/roll`, {}).set('x-deny', 'forbidden')],
  ['post', '/{id}/roll', 404, (c) => c.api.post(`${UNKNOWN}/roll`, {})],
  [
    'post',
    '/{id}/roll',
    409,
    withKeys(async (c, { secret }) => {
      await c.keyward.updateKey('org_a', secret, { disabled: true });
      return c.api.post(`/${secret}/roll`, {});
    }),
  ],
  [
    'post',
    '/{id}/roll',
    412,
    withKeys((c, { secret }) => c.api.post(`/${secret}/roll`, {}).set('If-Match', '"7"')),
  ],
  [
    'post',
    '/{id}/roll',
    422,
    withKeys(async (c, { secret }) => {
      await c.api.post(`/${secret}/roll`, { gracePeriodSeconds: 1 }).set('Idempotency-Key', 'k');
      return c.api.post(`/${secret}/roll`, { gracePeriodSeconds: 2 }).set('Idempotency-Key', 'k');
    }),
  ],
  ['post', '/{id}/roll', 413, (c) => c.api.post(`${UNKNOWN}/roll`).set('Content-Type', json).send(tooLarge)],
  [
    'post',
    '/{id}/roll',
    415,
    (c) => c.api.post(`${UNKNOWN}/roll`).set('Content-Type', 'text/plain').send('60'),
  ],
  ['post', '/{id}/roll', 429, overWriteCap((c) => c.api.post(`${UNKNOWN}/roll`, {}))],
  ['post', '/{id}/roll', 500, failing('rollKey', 'bug', (c) => c.api.post(`${UNKNOWN}/roll`, {}))],
  ['post', '/{id}/roll', 503, failing('rollKey', 'down', (c) => c.api.post(`${UNKNOWN}/roll`, {}))],

  ['delete', '/{id}', 204, withKeys((c, { secret }) => c.api.delete(`/${secret}`))],
  ['delete', '/{id}', 401, (c) => c.as(null).delete(UNKNOWN)],
  ['delete', '/{id}', 403, (c) => c.api.delete(UNKNOWN).set('x-deny', 'forbidden')],
  ['delete', '/{id}', 404, (c) => c.api.delete(UNKNOWN)],
  ['delete', '/{id}', 429, overWriteCap((c) => c.api.delete(UNKNOWN))],
  ['delete', '/{id}', 412, withKeys((c, { secret }) => c.api.delete(`/${secret}`).set('If-Match', '"7"'))],
  ['delete', '/{id}', 500, failing('deleteKey', 'bug', (c) => c.api.delete(UNKNOWN))],
  ['delete', '/{id}', 503, failing('deleteKey', 'down', (c) => c.api.delete(UNKNOWN))],

  ['get', '/events', 200, withKeys((c) => c.api.get('/events?limit=1'))],
  ['get', '/events', 304, withKeys((c) => notModified(c, '/events'))],
  ['get', '/events', 400, (c) => c.api.get('/events?type=key.exploded')],
  ['get', '/events', 401, (c) => c.as(null).get('/events')],
  ['get', '/events', 403, (c) => c.api.get('/events').set('x-deny', 'forbidden')],
  ['get', '/events', 500, failing('listEvents', 'bug', (c) => c.api.get('/events'))],
  ['get', '/events', 503, failing('listEvents', 'down', (c) => c.api.get('/events'))],
  // Usage (docs/reference.md §9).
  ['get', '/usage', 200, withKeys((c) => c.api.get('/usage?granularity=day'))],
  ['get', '/usage', 400, (c) => c.api.get('/usage?granularity=week')],
  ['get', '/usage', 401, (c) => c.as(null).get('/usage')],
  ['get', '/usage', 403, (c) => c.api.get('/usage').set('x-deny', 'forbidden')],
  ['get', '/usage', 500, failing('usage', 'bug', (c) => c.api.get('/usage'))],
  ['get', '/usage', 503, failing('usage', 'down', (c) => c.api.get('/usage'))],
  ['get', '/non-compliant', 200, withKeys((c) => c.api.get('/non-compliant'))],
  ['get', '/non-compliant', 401, (c) => c.as(null).get('/non-compliant')],
  ['get', '/non-compliant', 403, (c) => c.api.get('/non-compliant').set('x-deny', 'forbidden')],
  ['get', '/non-compliant', 500, failing('nonCompliantKeys', 'bug', (c) => c.api.get('/non-compliant'))],
  ['get', '/non-compliant', 503, failing('nonCompliantKeys', 'down', (c) => c.api.get('/non-compliant'))],
  ['get', '/{id}/usage', 200, withKeys((c, { pub }) => c.api.get(`/${pub}/usage`))],
  ['get', '/{id}/usage', 400, withKeys((c, { pub }) => c.api.get(`/${pub}/usage?from=soon`))],
  ['get', '/{id}/usage', 401, (c) => c.as(null).get(`${UNKNOWN}/usage`)],
  ['get', '/{id}/usage', 403, (c) => c.api.get(`${UNKNOWN}/usage`).set('x-deny', 'forbidden')],
  ['get', '/{id}/usage', 404, (c) => c.api.get(`${UNKNOWN}/usage`)],
  ['get', '/{id}/usage', 500, failing('keyUsage', 'bug', (c) => c.api.get(`${UNKNOWN}/usage`))],
  ['get', '/{id}/usage', 503, failing('keyUsage', 'down', (c) => c.api.get(`${UNKNOWN}/usage`))],

  ['get', '/{id}/credits', 200, withKeys((c, { secret }) => c.api.get(`/${secret}/credits`))],
  ['get', '/{id}/credits', 401, (c) => c.as(null).get(`${UNKNOWN}/credits`)],
  ['get', '/{id}/credits', 403, (c) => c.api.get(`${UNKNOWN}/credits`).set('x-deny', 'forbidden')],
  ['get', '/{id}/credits', 404, (c) => c.api.get(`${UNKNOWN}/credits`)],
  ['get', '/{id}/credits', 500, failing('getCredits', 'bug', (c) => c.api.get(`${UNKNOWN}/credits`))],
  ['get', '/{id}/credits', 503, failing('getCredits', 'down', (c) => c.api.get(`${UNKNOWN}/credits`))],
  [
    'put',
    '/{id}/credits',
    200,
    withKeys((c, { secret }) => c.api.put(`/${secret}/credits`, { remaining: 5 }).set('x-operator', 'yes')),
  ],
  [
    'put',
    '/{id}/credits',
    400,
    withKeys((c, { secret }) => c.api.put(`/${secret}/credits`, { remaining: -1 }).set('x-operator', 'yes')),
  ],
  ['put', '/{id}/credits', 401, (c) => c.as(null).put(`${UNKNOWN}/credits`, { remaining: 5 })],
  [
    'put',
    '/{id}/credits',
    403,
    withKeys((c, { secret }) => c.api.put(`/${secret}/credits`, { remaining: 5 })),
  ],
  [
    'put',
    '/{id}/credits',
    404,
    (c) => c.api.put(`${UNKNOWN}/credits`, { remaining: 5 }).set('x-operator', 'yes'),
  ],
  [
    'put',
    '/{id}/credits',
    409,
    (c) => {
      vi.spyOn(c.keyward, 'setCredits').mockRejectedValue(new KeywardError('conflict'));
      return c.api.put(`${UNKNOWN}/credits`, { remaining: 5 }).set('x-operator', 'yes');
    },
  ],
  [
    'put',
    '/{id}/credits',
    413,
    (c) => c.api.put(`${UNKNOWN}/credits`).set('Content-Type', json).send(tooLarge),
  ],
  [
    'put',
    '/{id}/credits',
    415,
    (c) => c.api.put(`${UNKNOWN}/credits`).set('Content-Type', 'text/plain').send('5'),
  ],
  ['put', '/{id}/credits', 429, overWriteCap((c) => c.api.put(`${UNKNOWN}/credits`, { remaining: 5 }))],
  [
    'put',
    '/{id}/credits',
    500,
    failing('setCredits', 'bug', (c) =>
      c.api.put(`${UNKNOWN}/credits`, { remaining: 5 }).set('x-operator', 'yes'),
    ),
  ],
  [
    'put',
    '/{id}/credits',
    503,
    failing('setCredits', 'down', (c) =>
      c.api.put(`${UNKNOWN}/credits`, { remaining: 5 }).set('x-operator', 'yes'),
    ),
  ],
  [
    'delete',
    '/{id}/credits',
    200,
    withKeys((c, { secret }) => c.api.delete(`/${secret}/credits`).set('x-operator', 'yes')),
  ],
  ['delete', '/{id}/credits', 401, (c) => c.as(null).delete(`${UNKNOWN}/credits`)],
  ['delete', '/{id}/credits', 403, (c) => c.api.delete(`${UNKNOWN}/credits`)],
  ['delete', '/{id}/credits', 404, (c) => c.api.delete(`${UNKNOWN}/credits`).set('x-operator', 'yes')],
  [
    'delete',
    '/{id}/credits',
    409,
    (c) => {
      vi.spyOn(c.keyward, 'setCredits').mockRejectedValue(new KeywardError('conflict'));
      return c.api.delete(`${UNKNOWN}/credits`).set('x-operator', 'yes');
    },
  ],
  ['delete', '/{id}/credits', 429, overWriteCap((c) => c.api.delete(`${UNKNOWN}/credits`))],
  [
    'delete',
    '/{id}/credits',
    500,
    failing('setCredits', 'bug', (c) => c.api.delete(`${UNKNOWN}/credits`).set('x-operator', 'yes')),
  ],
  [
    'delete',
    '/{id}/credits',
    503,
    failing('setCredits', 'down', (c) => c.api.delete(`${UNKNOWN}/credits`).set('x-operator', 'yes')),
  ],

  ['get', '/scopes', 200, (c) => c.api.get('/scopes')],
  ['get', '/scopes', 304, (c) => notModified(c, '/scopes')],
  ['get', '/scopes', 401, (c) => c.as(null).get('/scopes')],
  ['get', '/scopes', 403, (c) => c.api.get('/scopes').set('x-deny', 'forbidden')],
  [
    'get',
    '/scopes',
    500,
    () =>
      setup({
        authorize: () => {
          throw new TypeError('bug');
        },
      }).api.get('/scopes'),
  ],

  ['get', '/openapi.json', 200, async (c) => c.as(null).get('/openapi.json')],
  ['get', '/openapi.json', 304, async (c) => notModified(c, '/openapi.json')],
];

describe('the OpenAPI document', () => {
  it('is served at <mount>/openapi.json as OpenAPI 3.1 with paths relative to the mount', async () => {
    const { as, keyward } = setup();
    const res = await as(null).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: MOUNT, description: expect.any(String) }]);
    expect(Object.keys(res.body.paths).sort()).toEqual([
      '/',
      '/events',
      '/non-compliant',
      '/openapi.json',
      '/scopes',
      '/usage',
      '/{id}',
      '/{id}/credits',
      '/{id}/roll',
      '/{id}/usage',
    ]);
    expect(res.body).toEqual(
      JSON.parse(
        JSON.stringify(
          createOpenApiDocument({ scopes: keyward.scopes, plans: keyward.plans, serverUrl: MOUNT }),
        ),
      ),
    );
  });

  it('documents exactly the responses the scenarios below produce', () => {
    const doc = createOpenApiDocument();
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { responses?: Record<string, unknown> }>).flatMap(
        ([method, op]) => Object.keys(op.responses ?? {}).map((status) => `${method} ${path} ${status}`),
      ),
    );
    const exercised = SCENARIOS.map(([method, path, status]) => `${method} ${path} ${status}`);
    expect(exercised.sort()).toEqual(documented.sort());
  });

  it.each(SCENARIOS)(
    'matches the real response of %s %s with status %i',
    async (method, path, status, run) => {
      const context = setup();
      const validate = documentValidator((await context.as(null).get('/openapi.json')).body);
      const res = await run(context);
      expect(res.status).toBe(status);
      expect(validate(method, path, res)).toEqual([]);
    },
  );

  it('rejects a Key with a field docs/reference.md does not have', async () => {
    const context = setup();
    const doc = (await context.as(null).get('/openapi.json')).body;
    const res = await context.api.post('', { name: 'New', type: 'secret' });
    expect(documentValidator(doc)('post', '/', res)).toEqual([]);
    res.body.data.hash = 'abc';
    expect(documentValidator(doc)('post', '/', res)).not.toEqual([]);
  });

  it('rejects a secret Key that carries a token', async () => {
    const context = setup();
    const doc = (await context.as(null).get('/openapi.json')).body;
    const res = await context.api.post('', { name: 'New', type: 'secret' });
    res.body.data.token = res.body.token;
    expect(documentValidator(doc)('post', '/', res)).not.toEqual([]);
  });

  it('rejects an error body with a code other than the documented one', async () => {
    const context = setup();
    const doc = (await context.as(null).get('/openapi.json')).body;
    const res = await context.api.get('/key_0123456789ABCDEFGHIJ');
    res.body.error.code = 'forbidden';
    expect(documentValidator(doc)('get', '/{id}', res)).not.toEqual([]);
  });

  it('describes request bodies with the rules of core, the scope catalog and the public ceiling', () => {
    const doc = createOpenApiDocument({ scopes: { scopes: SCOPES, publicScopes: PUBLIC_SCOPES } });
    const schema = (path: string, method: string) =>
      (doc.paths[path] as Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>)[
        method
      ]?.requestBody.content['application/json']?.schema;
    expect(schema('/', 'post')).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['name', 'type'],
      properties: {
        name: {
          type: 'string',
          pattern: NAME_PORTABLE_PATTERN.source,
          minLength: 1,
          maxLength: MAX_NAME_INPUT_LENGTH,
          'x-pattern-ecmascript': NAME_PATTERN.source,
        },
        type: { enum: ['public', 'secret'] },
        scopes: { type: 'array', items: { type: 'string', enum: SCOPES } },
        allowedIps: {
          items: { type: 'string', pattern: expect.any(String), description: expect.any(String) },
        },
        allowedOrigins: {
          items: { type: 'string', pattern: expect.any(String), description: expect.any(String) },
        },
      },
      allOf: [
        {
          if: { properties: { type: { const: 'secret' } } },
          // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
          then: { properties: { allowedOrigins: { maxItems: 0 } } },
        },
        {
          if: { properties: { type: { const: 'public' } } },
          // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
          then: { properties: { scopes: { items: { enum: PUBLIC_SCOPES } } } },
        },
      ],
    });
    expect(schema('/{id}', 'patch')).toMatchObject({
      properties: { scopes: { items: { enum: SCOPES } } },
    });
  });

  it('declares the Key component from core keySchema, field by field', () => {
    const key = createOpenApiDocument().components.schemas?.Key as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(key.properties)).toEqual(Object.keys(keySchema.shape));
    expect(key.required).toEqual(Object.keys(keySchema.shape).filter((field) => field !== 'token'));
  });

  it('says how a caller is authenticated (express-session cookie by default), the document needs nothing', () => {
    const doc = createOpenApiDocument();
    expect(doc.security).toEqual([{ session: [] }]);
    expect(doc.components.securitySchemes).toEqual({
      session: { type: 'apiKey', in: 'cookie', name: 'connect.sid', description: expect.any(String) },
    });
    const served = (doc.paths['/openapi.json'] as { get: { security: unknown } }).get;
    expect(served.security).toEqual([]);
  });

  it.each([
    [
      { type: 'cookie', name: 'kw_demo_session' },
      { session: { type: 'apiKey', in: 'cookie', name: 'kw_demo_session' } },
    ],
    [{ type: 'bearer' }, { bearerAuth: { type: 'http', scheme: 'bearer' } }],
    [
      { type: 'bearer', bearerFormat: 'JWT' },
      { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    ],
  ] as const)(
    'serves the security scheme of the router option openapi.security = %j',
    async (security, scheme) => {
      const { keyward } = setup();
      const app = express().use(
        '/k',
        createAdminRouter({ keyward, authorize: headerAuthorize, openapi: { security } }),
      );
      const doc = (await request(app).get('/k/openapi.json')).body;
      expect(doc.components.securitySchemes).toEqual({
        [Object.keys(scheme)[0] as string]: { ...Object.values(scheme)[0], description: expect.any(String) },
      });
      expect(doc.security).toEqual([{ [Object.keys(scheme)[0] as string]: [] }]);
    },
  );

  it.each([
    [{ type: 'cookie' }],
    [{ type: 'cookie', name: 'a b' }],
    [{ type: 'header', name: 'x' }],
    [{ type: 'bearer', bearerFormat: 1 }],
    ['bearer'],
  ])('throws a TypeError at start-up for openapi.security = %j', (security) => {
    const { keyward } = setup();
    expect(() =>
      createAdminRouter({ keyward, authorize: headerAuthorize, openapi: { security: security as never } }),
    ).toThrow(TypeError);
  });

  it('requires the PATCH and roll bodies ({} changes nothing), as every POST and PATCH needs JSON', async () => {
    const doc = createOpenApiDocument();
    const bodyOf = (path: string, method: string) =>
      (doc.paths[path] as Record<string, { requestBody: { required: boolean } }>)[method]?.requestBody;
    for (const [path, method] of [
      ['/', 'post'],
      ['/{id}', 'patch'],
      ['/{id}/roll', 'post'],
    ] as const) {
      expect(bodyOf(path, method)?.required).toBe(true);
    }
    // The server: no body (and so no JSON content type) is 415; an empty JSON body is 400; `{}` is accepted.
    const context = setup();
    const { key } = await context.createKey('org_a', { name: 'K', type: 'secret' });
    expect((await context.api.patch(`/${key.id}`).unset('Content-Type')).status).toBe(415);
    expect((await context.api.post(`/${key.id}/roll`).unset('Content-Type')).status).toBe(415);
    expect((await context.api.patch(`/${key.id}`).set('Content-Length', '0')).status).toBe(400);
    expect((await context.api.post(`/${key.id}/roll`).set('Content-Length', '0')).status).toBe(400);
    expect((await context.api.patch(`/${key.id}`, {})).status).toBe(200);
    expect((await context.api.post(`/${key.id}/roll`, {})).status).toBe(201);
  });

  it('types the 400 details items and the served document itself', () => {
    const doc = createOpenApiDocument();
    const responses = doc.components.responses as Record<
      string,
      { content: Record<string, { schema: unknown }> }
    >;
    expect(JSON.stringify(responses['400']?.content['application/json']?.schema)).toContain(
      '"items":{"$ref":"#/components/schemas/ErrorDetail"}',
    );
    const served = (doc.paths['/openapi.json'] as { get: { responses: Record<string, unknown> } }).get;
    expect(served.responses['200']).toMatchObject({
      content: { 'application/json': { schema: { $ref: '#/components/schemas/OpenApiDocument' } } },
    });
    expect(doc.components.schemas?.OpenApiDocument).toMatchObject({ required: ['openapi', 'info', 'paths'] });
  });

  it('answers wrong methods with the documented 405 and an Allow that lists what the document lists', async () => {
    const context = setup();
    const doc = (await context.as(null).get('/openapi.json')).body;
    const validate405 = componentResponseValidator(doc, '405');
    for (const path of Object.keys(doc.paths) as Array<Parameters<typeof allowedMethods>[0]>) {
      const documented = Object.keys(doc.paths[path])
        .filter((m) => m !== 'parameters')
        .map((m) => m.toUpperCase());
      const allow = allowedMethods(path);
      // HEAD goes with GET (Express answers it); otherwise Allow is the document's list.
      expect(
        allow
          .split(', ')
          .filter((m) => m !== 'HEAD')
          .sort(),
      ).toEqual(documented.sort());
      const wrong = (['get', 'post', 'patch', 'delete', 'put'] as const).find(
        (m) => !documented.includes(m.toUpperCase()),
      );
      const url = path.replace('{id}', 'key_0123456789ABCDEFGHIJ');
      const res = await request(context.app)[wrong ?? 'put'](`${MOUNT}${url === '/' ? '' : url}`);
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(validate405(res)).toEqual([]);
    }
  });

  it('has only patterns that compile without flags and use nothing Python re or RE2 lacks', () => {
    const doc = createOpenApiDocument({ scopes: { scopes: SCOPES, publicScopes: PUBLIC_SCOPES } });
    const patterns = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, inner] of Object.entries(value)) {
          if (key === 'pattern' && typeof inner === 'string') patterns.add(inner);
          else walk(inner);
        }
      }
    };
    walk(doc);
    expect(patterns.size).toBeGreaterThanOrEqual(5); // name, date-time, origin, IP, token, id
    for (const pattern of patterns) {
      expect(() => new RegExp(pattern)).not.toThrow();
      // No \p{…}, no lookaround (RE2 has neither), no \uHHHH (RE2), no backreferences.
      expect(pattern).not.toMatch(/\\[pPu]|\(\?<?[=!]|\\[1-9]/);
    }
  });

  it.skipIf(!hasPython())(
    'has only patterns that Python re compiles (skipped without python3 on the PATH)',
    () => {
      const doc = JSON.stringify(createOpenApiDocument());
      const script =
        'import json,re,sys\n' +
        'def walk(v):\n' +
        '  if isinstance(v, dict):\n' +
        '    for k, x in v.items():\n' +
        '      if k == "pattern" and isinstance(x, str): re.compile(x); print("ok")\n' +
        '      else: walk(x)\n' +
        '  elif isinstance(v, list):\n' +
        '    for x in v: walk(x)\n' +
        'walk(json.load(sys.stdin))\n';
      const out = execFileSync('python3', ['-c', script], { input: doc, encoding: 'utf8' });
      expect(out.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(5);
    },
  );

  it.each([
    ['/api/keys', '/api/keys'],
    ['/orgs/acme/keys', '/orgs/acme/keys'],
    ['', '/'],
  ])('at mount %j names the server %j, so no path resolves with a double slash', async (mount, url) => {
    const { keyward } = setup();
    const app = express().use(mount || '/', createAdminRouter({ keyward, authorize: headerAuthorize }));
    const res = await request(app).get(`${mount}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.body.servers).toEqual([{ url, description: expect.any(String) }]);
    for (const path of Object.keys(res.body.paths)) {
      const full = url === '/' ? path : url + path;
      expect(full).not.toContain('//');
    }
  });

  it('takes an explicit serverUrl without its trailing slash', () => {
    expect(createOpenApiDocument({ serverUrl: 'https://api.example.com/keys/' }).servers[0]?.url).toBe(
      'https://api.example.com/keys',
    );
  });

  it('returns a fresh document on every call', () => {
    const doc = createOpenApiDocument();
    doc.info.title = 'Changed';
    expect(createOpenApiDocument().info.title).toBe('Keyward admin API');
  });
});

function hasPython(): boolean {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
