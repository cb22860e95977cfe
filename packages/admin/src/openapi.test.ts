import { KeyStoreUnavailableError, keySchema, NAME_PATTERN } from '@keyward/core';
import express from 'express';
import request, { type Response } from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import { MAX_BODY_BYTES } from './body.js';
import { createOpenApiDocument } from './openapi.js';
import { headerAuthorize, MOUNT, PUBLIC_SCOPES, SCOPES, setup } from './test-app.js';
import { documentValidator, type Method } from './test-openapi.js';

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
  | 'listEvents';
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
  ['post', '/', 413, (c) => c.api.post('').set('Content-Type', json).send(tooLarge)],
  ['post', '/', 415, (c) => c.api.post('').set('Content-Type', 'text/plain').send('name=New')],
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
  ['patch', '/{id}', 413, (c) => c.api.patch(UNKNOWN).set('Content-Type', json).send(tooLarge)],
  ['patch', '/{id}', 415, (c) => c.api.patch(UNKNOWN).set('Content-Type', 'text/csv').send('a,b')],
  ['patch', '/{id}', 500, failing('updateKey', 'bug', (c) => c.api.patch(UNKNOWN, { name: 'A' }))],
  ['patch', '/{id}', 503, failing('updateKey', 'down', (c) => c.api.patch(UNKNOWN, { name: 'A' }))],

  [
    'post',
    '/{id}/roll',
    201,
    withKeys((c, { pub }) => c.api.post(`/${pub}/roll`, { gracePeriodSeconds: 60 })),
  ],
  ['post', '/{id}/roll', 400, (c) => c.api.post(`${UNKNOWN}/roll`, { gracePeriodSeconds: -1 })],
  ['post', '/{id}/roll', 401, (c) => c.as(null).post(`${UNKNOWN}/roll`)],
  ['post', '/{id}/roll', 403, (c) => c.api.post(`${UNKNOWN}/roll`).set('x-deny', 'forbidden')],
  ['post', '/{id}/roll', 404, (c) => c.api.post(`${UNKNOWN}/roll`)],
  [
    'post',
    '/{id}/roll',
    409,
    withKeys(async (c, { secret }) => {
      await c.keyward.updateKey('org_a', secret, { disabled: true });
      return c.api.post(`/${secret}/roll`);
    }),
  ],
  ['post', '/{id}/roll', 413, (c) => c.api.post(`${UNKNOWN}/roll`).set('Content-Type', json).send(tooLarge)],
  [
    'post',
    '/{id}/roll',
    415,
    (c) => c.api.post(`${UNKNOWN}/roll`).set('Content-Type', 'text/plain').send('60'),
  ],
  ['post', '/{id}/roll', 500, failing('rollKey', 'bug', (c) => c.api.post(`${UNKNOWN}/roll`))],
  ['post', '/{id}/roll', 503, failing('rollKey', 'down', (c) => c.api.post(`${UNKNOWN}/roll`))],

  ['delete', '/{id}', 204, withKeys((c, { secret }) => c.api.delete(`/${secret}`))],
  ['delete', '/{id}', 401, (c) => c.as(null).delete(UNKNOWN)],
  ['delete', '/{id}', 403, (c) => c.api.delete(UNKNOWN).set('x-deny', 'forbidden')],
  ['delete', '/{id}', 404, (c) => c.api.delete(UNKNOWN)],
  ['delete', '/{id}', 500, failing('deleteKey', 'bug', (c) => c.api.delete(UNKNOWN))],
  ['delete', '/{id}', 503, failing('deleteKey', 'down', (c) => c.api.delete(UNKNOWN))],

  ['get', '/events', 200, withKeys((c) => c.api.get('/events?limit=1'))],
  ['get', '/events', 304, withKeys((c) => notModified(c, '/events'))],
  ['get', '/events', 400, (c) => c.api.get('/events?type=key.exploded')],
  ['get', '/events', 401, (c) => c.as(null).get('/events')],
  ['get', '/events', 403, (c) => c.api.get('/events').set('x-deny', 'forbidden')],
  ['get', '/events', 500, failing('listEvents', 'bug', (c) => c.api.get('/events'))],
  ['get', '/events', 503, failing('listEvents', 'down', (c) => c.api.get('/events'))],

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
      '/openapi.json',
      '/scopes',
      '/{id}',
      '/{id}/roll',
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

  it('rejects a Key with a field the contract does not have', async () => {
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
        name: { type: 'string', pattern: NAME_PATTERN.source },
        type: { enum: ['public', 'secret'] },
        scopes: { type: 'array', items: { type: 'string', enum: SCOPES } },
      },
      if: { properties: { type: { const: 'public' } } },
      // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
      then: { properties: { scopes: { items: { enum: PUBLIC_SCOPES } } } },
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

  it('says how a caller is authenticated, and that the document itself needs nothing', () => {
    const doc = createOpenApiDocument();
    expect(doc.security).toEqual([{ session: [] }]);
    expect(doc.components.securitySchemes?.session).toMatchObject({ type: 'apiKey', in: 'cookie' });
    const served = (doc.paths['/openapi.json'] as { get: { security: unknown } }).get;
    expect(served.security).toEqual([]);
  });

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
