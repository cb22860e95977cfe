import { describe, expect, it } from 'vitest';
import { setup, snapshot } from '../test-app.js';

describe('ETag and If-Match (docs/reference.md §11)', () => {
  it('GET /:id answers a strong ETag naming the key version; If-None-Match still answers 304', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.get(`/${key.id}`);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"0-[\w-]{22}"$/);
    const again = await api.get(`/${key.id}`).set('If-None-Match', res.headers.etag as string);
    expect(again.status).toBe(304);
  });

  it('a use of the key changes the ETag (lastUsedAt) but not what If-Match checks', async () => {
    const { api, keyward, createKey } = setup();
    const { key, token } = await createKey();
    const before = (await api.get(`/${key.id}`)).headers.etag as string;
    expect((await keyward.verify(token)).valid).toBe(true);
    await keyward.flushUsage();
    const after = await api.get(`/${key.id}`);
    expect(after.body.data.lastUsedAt).not.toBeNull();
    expect(after.headers.etag).not.toBe(before);
    expect((await api.patch(`/${key.id}`, { name: 'Mine' }).set('If-Match', before)).status).toBe(200);
  });

  it('a PATCH with a stale ETag is 412 precondition_failed and changes nothing; the current one is 200', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    const stale = (await api.get(`/${key.id}`)).headers.etag as string;
    // Someone else changes the key.
    expect((await api.patch(`/${key.id}`, { name: 'Theirs' })).status).toBe(200);
    const before = await snapshot(keyward, 'org_a', key.id);

    const refused = await api.patch(`/${key.id}`, { name: 'Mine', disabled: true }).set('If-Match', stale);
    expect(refused.status).toBe(412);
    expect(refused.body.error.code).toBe('precondition_failed');
    expect(await snapshot(keyward, 'org_a', key.id)).toEqual(before);
    expect((await keyward.listEvents('org_a', { keyId: key.id })).events).toHaveLength(2);

    const current = (await api.get(`/${key.id}`)).headers.etag as string;
    expect(current).toMatch(/^"1-/);
    const ok = await api.patch(`/${key.id}`, { name: 'Mine' }).set('If-Match', current);
    expect(ok.status).toBe(200);
    expect(ok.body.data.name).toBe('Mine');
    expect(ok.headers.etag).toMatch(/^"2-/);
  });

  it('a weak or foreign tag never matches (If-Match compares strongly); * matches any current key', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const current = (await api.get(`/${key.id}`)).headers.etag as string;
    for (const tag of [`W/${current}`, '"abc"', `${current}, "1"`]) {
      const res = await api.patch(`/${key.id}`, { name: 'X' }).set('If-Match', tag);
      expect(res.status, tag).toBe(412);
    }
    const any = await api.patch(`/${key.id}`, { name: 'Y' }).set('If-Match', '*');
    expect(any.status).toBe(200);
  });

  it('a roll with a stale ETag is 412 and makes no key; with the current one it rolls', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await api.patch(`/${key.id}`, { name: 'Changed' });
    const refused = await api.post(`/${key.id}/roll`, {}).set('If-Match', '"0"');
    expect(refused.status).toBe(412);
    expect(refused.body.token).toBeUndefined();
    expect((await keyward.listKeys('org_a')).keys).toHaveLength(1);

    const ok = await api.post(`/${key.id}/roll`, {}).set('If-Match', '"1"');
    expect(ok.status).toBe(201);
    expect(ok.headers.etag).toMatch(/^"0-/); // the new key's
  });

  it('a DELETE with a stale ETag is 412 and the key stays; with the current one it is deleted', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    await api.patch(`/${key.id}`, { disabled: true });
    const refused = await api.delete(`/${key.id}`).set('If-Match', '"0"');
    expect(refused.status).toBe(412);
    expect(await keyward.getKey('org_a', key.id)).not.toBeNull();

    expect((await api.delete(`/${key.id}`).set('If-Match', '"1"')).status).toBe(204);
    expect(await keyward.getKey('org_a', key.id)).toBeNull();
    // Gone: 404, not 412.
    expect((await api.delete(`/${key.id}`).set('If-Match', '"1"')).status).toBe(404);
  });
});
