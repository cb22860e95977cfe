import { describe, expect, it } from 'vitest';
import { KEY_FIELDS, START, setup, snapshot, UNKNOWN_ID } from '../test-app.js';

const HOUR = 3_600_000;

describe('POST /:id/roll (roll a key)', () => {
  it('rolls a key with an empty JSON body: a new key and token, the old one rolled for 12 hours', async () => {
    const { api, createKey } = setup();
    const old = await createKey('org_a', { name: 'Server', type: 'secret', scopes: ['billing:read'] });
    const res = await api.post(`/${old.key.id}/roll`, {});
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'previous', 'token']);
    expect(res.body.token).toMatch(/^kw_sk_[0-9A-Za-z]{38}$/);
    expect(res.body.token).not.toBe(old.token);
    expect(Object.keys(res.body.data).sort()).toEqual(KEY_FIELDS);
    expect(res.body.data).toMatchObject({
      name: 'Server',
      type: 'secret',
      scopes: ['billing:read'],
      status: 'active',
    });
    expect(res.body.data.id).not.toBe(old.key.id);
    expect(res.body.previous).toMatchObject({
      id: old.key.id,
      status: 'rolled',
      rolledAt: new Date(START).toISOString(),
      replacedBy: res.body.data.id,
      expiresAt: new Date(START + 12 * HOUR).toISOString(),
    });
    expect(res.body.previous).not.toHaveProperty('token');
  });

  it('refuses an empty body sent as JSON (Content-Length: 0) with 400, as the document requires a body', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`).set('Content-Length', '0');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', details: [{ path: '' }] });
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
    expect((await api.post(`/${key.id}/roll`, {})).status).toBe(201);
  });

  it('refuses an empty body without a JSON content type with 415, and rolls nothing', async () => {
    const { app, keyward, createKey } = setup();
    const { key } = await createKey();
    const { default: request } = await import('supertest');
    const res = await request(app)
      .post(`/api/keys/${key.id}/roll`)
      .set('x-org', 'org_a')
      .set('Content-Length', '0');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
  });

  it('accepts an empty JSON object as the defaults', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`, {});
    expect(res.status).toBe(201);
    expect(res.body.previous.expiresAt).toBe(new Date(START + 12 * HOUR).toISOString());
  });

  it('uses the given grace period', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`, { gracePeriodSeconds: 60 });
    expect(res.body.previous.expiresAt).toBe(new Date(START + 60_000).toISOString());
  });

  it('revokes the old key at once with a grace period of 0', async () => {
    const { api, keyward, createKey } = setup();
    const { key, token } = await createKey();
    const res = await api.post(`/${key.id}/roll`, { gracePeriodSeconds: 0 });
    expect(res.status).toBe(201);
    expect(res.body.previous.status).toBe('expired');
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
    expect(await keyward.verify(res.body.token)).toMatchObject({ valid: true });
  });

  it('accepts the longest grace period of 7 days', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`, { gracePeriodSeconds: 604_800 });
    expect(res.status).toBe(201);
    expect(res.body.previous.expiresAt).toBe(new Date(START + 7 * 24 * HOUR).toISOString());
  });

  it('shows the new token of a rolled public key in the new key too', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey('org_a', { name: 'Website', type: 'public' });
    const res = await api.post(`/${key.id}/roll`, {});
    expect(res.body.token).toMatch(/^kw_pk_/);
    expect(res.body.data.token).toBe(res.body.token);
    expect(res.body.previous.token).not.toBe(res.body.token);
  });

  it.each([
    ['a negative number', -1],
    ['more than 7 days', 604_801],
    ['a fraction', 1.5],
    ['a string', '60'],
    ['null', null],
    ['a boolean', true],
  ])('answers 400 for a gracePeriodSeconds of %s and rolls nothing', async (_label, gracePeriodSeconds) => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`, { gracePeriodSeconds });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: 'validation_error',
      message: expect.any(String),
      details: [{ path: 'gracePeriodSeconds', message: 'Must be an integer from 0 to 604800.' }],
    });
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(key);
    expect((await keyward.listKeys('org_a')).keys).toHaveLength(1);
  });

  it('answers 400 for an unknown field', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`, { grace: 60 });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'grace', message: 'Unknown field.' }]);
  });

  it.each<[string, (context: ReturnType<typeof setup>) => Promise<string>, number]>([
    [
      'a key that was rolled already',
      async ({ api, createKey }) => {
        const { key } = await createKey();
        expect((await api.post(`/${key.id}/roll`, {})).status).toBe(201);
        return key.id;
      },
      2,
    ],
    [
      'a disabled key',
      async ({ keyward, createKey }) => {
        const { key } = await createKey();
        await keyward.updateKey('org_a', key.id, { disabled: true });
        return key.id;
      },
      1,
    ],
    [
      'an expired key',
      async ({ clock, createKey }) => {
        const { key } = await createKey('org_a', {
          name: 'Temp',
          type: 'secret',
          expiresAt: '2030-01-01T01:00:00Z',
        });
        clock.advance(HOUR);
        return key.id;
      },
      1,
    ],
  ])('answers 409 conflict for %s', async (_what, arrange, keysAfter) => {
    const context = setup();
    const id = await arrange(context);
    const res = await context.api.post(`/${id}/roll`, {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
    expect((await context.keyward.listKeys('org_a')).keys).toHaveLength(keysAfter);
  });

  it('answers 404 not_found for an unknown id, a malformed id and a deleted key', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await keyward.deleteKey('org_a', key.id);
    for (const id of [UNKNOWN_ID, 'key_!', key.id]) {
      const res = await api.post(`/${id}/roll`, {});
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });
});
