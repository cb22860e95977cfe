import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import { headerAuthorize, setup } from './test-app.js';

describe('grantableScopes', () => {
  it('refuses a create or update naming a scope customers may not grant, with 400 at the scope', async () => {
    const { api, keyward } = setup({ grantableScopes: ['snippets:read', 'snippets:write'] });
    const refused = await api.post('', {
      name: 'A',
      type: 'secret',
      scopes: ['snippets:read', 'billing:read'],
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'validation_error',
      details: [{ path: 'scopes.1', message: expect.stringMatching(/billing:read/) }],
    });
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);

    const created = await api.post('', { name: 'A', type: 'secret', scopes: ['snippets:write'] });
    expect(created.status).toBe(201);
    const patched = await api.patch(`/${created.body.data.id}`, { scopes: ['billing:read'] });
    expect(patched.status).toBe(400);
    expect((await keyward.getKey('org_a', created.body.data.id))?.scopes).toEqual(['snippets:write']);
  });

  it('gives a create without scopes only the grantable ones of its defaults; the service itself is not limited', async () => {
    const { api, keyward } = setup({ grantableScopes: ['snippets:read'] });
    const created = await api.post('', { name: 'A', type: 'secret' });
    expect(created.status).toBe(201);
    expect(created.body.data.scopes).toEqual(['snippets:read']);
    // The app's own code (the service) may still grant any scope of the catalog.
    const own = await keyward.createKey('org_a', { name: 'B', type: 'secret', scopes: ['billing:read'] });
    expect(own.key.scopes).toEqual(['billing:read']);
  });

  it('throws a TypeError at start-up for a scope outside the catalog', () => {
    const keyward = createKeyward({
      store: new MemoryKeyStore(),
      pepper: 'grantable-test-pepper-0123456789abcdef',
      scopes: ['a:read'],
    });
    expect(() =>
      createAdminRouter({ keyward, authorize: headerAuthorize, grantableScopes: ['b:write'] }),
    ).toThrow(TypeError);
  });
});
