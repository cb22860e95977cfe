import { createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import expressPackage from 'express/package.json' with { type: 'json' };
import request from 'supertest';
import { describe, expect, inject, it, vi } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import type { AdminRouterOptions } from './options.js';
import { headerAuthorize, setup } from './test-app.js';

function keywardForTest(): Keyward {
  return createKeyward({
    store: new MemoryKeyStore(),
    scopes: ['snippets:read'],
    publicScopes: ['snippets:read'],
    pepper: TEST_PEPPER,
  });
}

describe('the Express major under test', () => {
  it('is the one this project aliases express to', () => {
    expect(Number(expressPackage.version.split('.')[0])).toBe(inject('expressMajor'));
  });

  it('built the router itself from that major', () => {
    const router = createAdminRouter({ keyward: keywardForTest(), authorize: headerAuthorize });
    const layer = (router as unknown as { stack: Array<Record<string, unknown>> }).stack[0];
    // Express 4's Layer matches with `regexp`; Express 5's (router@2) with `matchers`.
    expect(layer).toHaveProperty(inject('expressMajor') === 4 ? 'regexp' : 'matchers');
  });
});

describe('createAdminRouter', () => {
  it('throws a TypeError without authorize', () => {
    const options = { keyward: keywardForTest() } as unknown as AdminRouterOptions;
    expect(() => createAdminRouter(options)).toThrow(TypeError);
    expect(() => createAdminRouter(options)).toThrow(/authorize/);
  });

  it('throws a TypeError when authorize is not a function', () => {
    const options = {
      keyward: keywardForTest(),
      authorize: { organizationId: 'org_a' },
    } as unknown as AdminRouterOptions;
    expect(() => createAdminRouter(options)).toThrow(TypeError);
  });

  it('throws a TypeError without a Keyward service', () => {
    expect(() => createAdminRouter({ authorize: headerAuthorize } as unknown as AdminRouterOptions)).toThrow(
      /keyward/,
    );
    expect(() =>
      createAdminRouter({ keyward: {}, authorize: headerAuthorize } as unknown as AdminRouterOptions),
    ).toThrow(TypeError);
  });

  it('throws a TypeError without options', () => {
    expect(() => createAdminRouter(undefined as unknown as AdminRouterOptions)).toThrow(TypeError);
  });

  it('does not change the options object it is given', () => {
    const options = Object.freeze({ keyward: keywardForTest(), authorize: headerAuthorize });
    expect(() => createAdminRouter(options)).not.toThrow();
  });

  it('returns a plain Express router that works at the root of an app', async () => {
    const keyward = keywardForTest();
    const app = express();
    app.use(createAdminRouter({ keyward, authorize: headerAuthorize }));
    const created = await request(app).post('/').set('x-org', 'org_a').send({ name: 'CI', type: 'secret' });
    expect(created.status).toBe(201);
    const fetched = await request(app).get(`/${created.body.data.id}`).set('x-org', 'org_a');
    expect(fetched.status).toBe(200);
    expect(fetched.body.data.id).toBe(created.body.data.id);
  });

  it('works mounted at a nested path of a sub-app', async () => {
    const keyward = keywardForTest();
    const app = express();
    const settings = express();
    settings.use('/orgs/current/keys', createAdminRouter({ keyward, authorize: headerAuthorize }));
    app.use('/settings', settings);
    const created = await request(app)
      .post('/settings/orgs/current/keys')
      .set('x-org', 'org_a')
      .send({ name: 'CI', type: 'public' });
    expect(created.status).toBe(201);
    const rolled = await request(app)
      .post(`/settings/orgs/current/keys/${created.body.data.id}/roll`)
      .set('x-org', 'org_a')
      .send({});
    expect(rolled.status).toBe(201);
    const list = await request(app).get('/settings/orgs/current/keys').set('x-org', 'org_a');
    expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([
      rolled.body.data.id,
      created.body.data.id,
    ]);
  });

  it('lets requests for paths it does not have fall through to the host app', async () => {
    const { app } = setup();
    app.use((_req, res) => {
      res.status(418).send('host');
    });
    for (const path of ['/api/keys/key_0123456789ABCDEFGHIJ/nope', '/api/keys/a/b/c']) {
      const res = await request(app).get(path).set('x-org', 'org_a');
      expect(res.status).toBe(418);
      expect(res.text).toBe('host');
    }
  });

  it.each([
    ['put', '/', 'GET, HEAD, POST'],
    ['delete', '/', 'GET, HEAD, POST'],
    ['patch', '/events', 'GET, HEAD'],
    ['delete', '/scopes', 'GET, HEAD'],
    ['post', '/openapi.json', 'GET, HEAD'],
    ['put', '/key_0123456789ABCDEFGHIJ', 'GET, HEAD, PATCH, DELETE'],
    ['post', '/key_0123456789ABCDEFGHIJ', 'GET, HEAD, PATCH, DELETE'],
    ['get', '/key_0123456789ABCDEFGHIJ/roll', 'POST'],
    ['delete', '/key_0123456789ABCDEFGHIJ/roll', 'POST'],
    ['post', '/usage', 'GET, HEAD'],
    ['delete', '/key_0123456789ABCDEFGHIJ/usage', 'GET, HEAD'],
  ] as const)('answers %s %s with 405 and Allow: %s, before authorize runs', async (method, path, allow) => {
    const authorize = vi.fn(() => ({ organizationId: 'org_a' }));
    const { app } = setup({ authorize });
    const res = await request(app)[method](`/api/keys${path === '/' ? '' : path}`);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.error.code).toBe('method_not_allowed');
    expect(authorize).not.toHaveBeenCalled();
  });

  it('leaves OPTIONS to Express and the host app (CORS preflights)', async () => {
    const { app } = setup();
    const res = await request(app).options('/api/keys/key_0123456789ABCDEFGHIJ');
    expect(res.status).not.toBe(405);
  });

  it('answers errors of its own routes without reaching the host app error handler', async () => {
    const { api, app } = setup();
    const hostErrorHandler = vi.fn((_err: unknown, _req: unknown, res: express.Response, _next: unknown) => {
      res.status(599).end();
    });
    app.use(hostErrorHandler);
    const res = await api.get('/key_0123456789ABCDEFGHIJ');
    expect(res.status).toBe(404);
    expect(hostErrorHandler).not.toHaveBeenCalled();
  });
});
