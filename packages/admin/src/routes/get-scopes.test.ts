import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { createAdminRouter } from '../admin-router.js';
import { PUBLIC_SCOPES, SCOPES, setup } from '../test-app.js';

describe('GET /scopes (the scope catalog)', () => {
  it('answers the catalog and the public ceiling in the order the app declared them', async () => {
    const { api } = setup();
    const res = await api.get('/scopes');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ data: { scopes: SCOPES, publicScopes: PUBLIC_SCOPES } });
  });

  it('answers an empty ceiling when the app allows public keys no scope', async () => {
    const keyward = createKeyward({
      store: new MemoryKeyStore(),
      scopes: ['z:write', 'a:read'],
      pepper: TEST_PEPPER,
    });
    const app = express().use(
      '/keys',
      createAdminRouter({ keyward, authorize: () => ({ organizationId: 'org_a' }) }),
    );
    const res = await request(app).get('/keys/scopes');
    expect(res.body).toEqual({ data: { scopes: ['z:write', 'a:read'], publicScopes: [] } });
  });

  it('answers the grantable scopes in catalog order when the router has grantableScopes', async () => {
    const keyward = createKeyward({
      store: new MemoryKeyStore(),
      scopes: ['z:write', 'a:read', 'm:read'],
      publicScopes: ['a:read'],
      pepper: TEST_PEPPER,
    });
    const app = express().use(
      '/keys',
      createAdminRouter({
        keyward,
        authorize: () => ({ organizationId: 'org_a' }),
        grantableScopes: ['m:read', 'a:read'],
      }),
    );
    const res = await request(app).get('/keys/scopes');
    expect(res.body).toEqual({
      data: {
        scopes: ['z:write', 'a:read', 'm:read'],
        publicScopes: ['a:read'],
        grantableScopes: ['a:read', 'm:read'],
      },
    });
  });

  it('asks authorize first: 401 when nobody is signed in, 403 when the caller is refused', async () => {
    const { as, api } = setup();
    const nobody = await as(null).get('/scopes');
    expect(nobody.status).toBe(401);
    expect(nobody.body.error.code).toBe('unauthorized');
    const refused = await api.get('/scopes').set('x-deny', 'forbidden');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
  });

  it('answers 500 without details when authorize throws', async () => {
    const { api } = setup({
      authorize: () => {
        throw new RangeError('hunter2');
      },
    });
    const res = await api.get('/scopes');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
  });

  it('never calls the key service and never reads the store', async () => {
    const store = new MemoryKeyStore();
    const list = vi.spyOn(store, 'list');
    const { api, keyward } = setup({ store });
    const spies = (['listKeys', 'getKey', 'createKey', 'updateKey', 'rollKey', 'deleteKey'] as const).map(
      (method) => vi.spyOn(keyward, method),
    );
    expect((await api.get('/scopes')).status).toBe(200);
    for (const spy of [list, ...spies]) expect(spy).not.toHaveBeenCalled();
  });

  it('answers with Cache-Control: no-store and no CORS headers', async () => {
    const { api } = setup();
    const res = await api.get('/scopes').set('Origin', 'https://evil.example');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
  });

  it('is a fixed path: it is never read as a key id, and other methods on it answer 405', async () => {
    const { api } = setup();
    for (const res of [await api.patch('/scopes', { name: 'x' }), await api.delete('/scopes')]) {
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.body.error.code).toBe('method_not_allowed');
    }
  });
});
