import { describe, expect, it } from 'vitest';
import { START, setup, snapshot, UNKNOWN_ID } from '../test-app.js';

describe('PATCH /:id (update a key)', () => {
  it('renames a key and answers it with a new updatedAt', async () => {
    const { api, clock, createKey } = setup();
    const { key } = await createKey();
    clock.advance(5000);
    const res = await api.patch(`/${key.id}`, { name: '  Renamed  ' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['data']);
    expect(res.body.data).toMatchObject({
      id: key.id,
      name: 'Renamed',
      updatedAt: new Date(START + 5000).toISOString(),
    });
    expect(res.body.data.createdAt).toBe(new Date(START).toISOString());
  });

  it('changes scopes, expiry and disabled together', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.patch(`/${key.id}`, {
      scopes: ['billing:read'],
      expiresAt: '2031-01-01T00:00:00.000Z',
      disabled: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      scopes: ['billing:read'],
      expiresAt: '2031-01-01T00:00:00.000Z',
      disabled: true,
      status: 'disabled',
    });
  });

  it('removes the expiry when expiresAt is null', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey('org_a', {
      name: 'Temp',
      type: 'secret',
      expiresAt: '2031-01-01T00:00:00Z',
    });
    const res = await api.patch(`/${key.id}`, { expiresAt: null });
    expect(res.status).toBe(200);
    expect(res.body.data.expiresAt).toBeNull();
  });

  it('enables a disabled key again', async () => {
    const { api, keyward, createKey } = setup();
    const { key, token } = await createKey();
    await keyward.updateKey('org_a', key.id, { disabled: true });
    const res = await api.patch(`/${key.id}`, { disabled: false });
    expect(res.body.data).toMatchObject({ disabled: false, status: 'active' });
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });

  it('takes a disable into effect on the very next verify', async () => {
    const { api, keyward, createKey } = setup();
    const { key, token } = await createKey();
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
    await api.patch(`/${key.id}`, { disabled: true });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('changes nothing, not even updatedAt, for an empty body', async () => {
    const { api, clock, keyward, createKey } = setup();
    const { key } = await createKey();
    clock.advance(5000);
    const res = await api.patch(`/${key.id}`, {});
    expect(res.status).toBe(200);
    expect(res.body.data.updatedAt).toBe(key.updatedAt.toISOString());
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
  });

  it('never answers the token of a secret key', async () => {
    const { api, createKey } = setup();
    const { key, token } = await createKey();
    const res = await api.patch(`/${key.id}`, { name: 'Renamed' });
    expect(res.body.data).not.toHaveProperty('token');
    expect(res.text).not.toContain(token);
  });

  it('answers 404 not_found for an unknown id, a malformed id and a deleted key', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await keyward.deleteKey('org_a', key.id);
    for (const id of [UNKNOWN_ID, 'nope', key.id]) {
      const res = await api.patch(`/${id}`, { name: 'Ghost' });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
  });

  it('answers 409 conflict when a rolled key is given more time', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await keyward.rollKey('org_a', key.id, { gracePeriodSeconds: 60 });
    const before = await snapshot(keyward, 'org_a', key.id);
    const res = await api.patch(`/${key.id}`, { expiresAt: null });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(before);
  });
});

describe('PATCH /:id validation', () => {
  const cases: Array<[string, unknown, string]> = [
    ['an unknown field', { name: 'A', type: 'public' }, 'type'],
    ['a name of the wrong type', { name: ['A'] }, 'name'],
    ['an empty name', { name: ' ' }, 'name'],
    ['a name over 100 characters', { name: 'y'.repeat(101) }, 'name'],
    ['scopes of the wrong type', { scopes: { 0: 'snippets:read' } }, 'scopes'],
    ['an unknown scope', { scopes: ['nope:read'] }, 'scopes.0'],
    ['disabled of the wrong type', { disabled: 'yes' }, 'disabled'],
    ['a past expiresAt', { expiresAt: '2000-01-01T00:00:00Z' }, 'expiresAt'],
    ['an unparsable expiresAt', { expiresAt: 'soon' }, 'expiresAt'],
    ['a JSON string body', '"name"', ''],
  ];

  it.each(cases)('answers 400 validation_error for %s and changes nothing', async (_label, body, path) => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    const res = await api.patch(`/${key.id}`, body).set('Content-Type', 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details).toEqual([{ path, message: expect.any(String) }]);
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
  });

  it('answers 400 when a public key is given a scope over the ceiling', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey('org_a', { name: 'Website', type: 'public' });
    const res = await api.patch(`/${key.id}`, { scopes: ['snippets:read', 'snippets:write'] });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'scopes.1', message: expect.stringMatching(/Public keys/) },
    ]);
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
  });
});
