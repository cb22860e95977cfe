import { describe, expect, it } from 'vitest';
import { KEY_FIELDS, START, setup, UNKNOWN_ID } from '../test-app.js';

describe('GET /:id (get a key)', () => {
  it('answers the key in the shape of docs/reference.md Key', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey('org_a', { name: 'Server', type: 'secret', scopes: ['billing:read'] });
    const res = await api.get(`/${key.id}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['data']);
    expect(Object.keys(res.body.data).sort()).toEqual(KEY_FIELDS);
    expect(res.body.data).toMatchObject({
      id: key.id,
      name: 'Server',
      type: 'secret',
      scopes: ['billing:read'],
      redactedKey: key.redactedKey,
      createdAt: key.createdAt.toISOString(),
      status: 'active',
    });
  });

  it('shows the token of a public key again', async () => {
    const { api, createKey } = setup();
    const { key, token } = await createKey('org_a', { name: 'Website', type: 'public' });
    const res = await api.get(`/${key.id}`);
    expect(res.body.data.token).toBe(token);
  });

  it('never shows the token of a secret key', async () => {
    const { api, createKey } = setup();
    const { key, token } = await createKey('org_a', { name: 'Server', type: 'secret' });
    const res = await api.get(`/${key.id}`);
    expect(res.body.data).not.toHaveProperty('token');
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain(token.slice(6, 30));
  });

  it('shows when the key was last used as an ISO time', async () => {
    const { api, keyward, clock, createKey } = setup();
    const { key, token } = await createKey();
    expect((await api.get(`/${key.id}`)).body.data.lastUsedAt).toBeNull();
    clock.advance(90_000);
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
    await keyward.flushUsage();
    const res = await api.get(`/${key.id}`);
    expect(res.body.data.lastUsedAt).toBe(new Date(START + 90_000).toISOString());
  });

  it('answers 404 not_found for an unknown id', async () => {
    const { api } = setup();
    const res = await api.get(`/${UNKNOWN_ID}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  it.each([
    ['a malformed id', '/not-a-key'],
    ['an id of the wrong length', '/key_0123'],
    ['an id that cannot be URL-decoded', '/%E0%A4%A'],
  ])('answers 404 not_found for %s', async (_label, path) => {
    const { api } = setup();
    const res = await api.get(path);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('answers 404 not_found for a deleted key', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await keyward.deleteKey('org_a', key.id);
    const res = await api.get(`/${key.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });
});
