import { describe, expect, it } from 'vitest';
import { setup, UNKNOWN_ID } from '../test-app.js';

describe('DELETE /:id (delete a key)', () => {
  it('answers 204 with no body and revokes the key at once', async () => {
    const { api, keyward, createKey } = setup();
    const { key, token } = await createKey();
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
    const res = await api.delete(`/${key.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('never lists or returns a deleted key again', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    await api.delete(`/${key.id}`);
    expect((await api.get()).body.data).toEqual([]);
    expect((await api.get(`/${key.id}`)).status).toBe(404);
    expect((await api.patch(`/${key.id}`, { name: 'Back' })).status).toBe(404);
    expect((await api.post(`/${key.id}/roll`, {})).status).toBe(404);
  });

  it('answers 404 not_found when the key was deleted already', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    expect((await api.delete(`/${key.id}`)).status).toBe(204);
    const res = await api.delete(`/${key.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it.each([
    ['an unknown id', `/${UNKNOWN_ID}`],
    ['a malformed id', '/123'],
  ])('answers 404 not_found for %s', async (_label, path) => {
    const { api } = setup();
    const res = await api.delete(path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
