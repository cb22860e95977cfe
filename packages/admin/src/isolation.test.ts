import { describe, expect, it } from 'vitest';
import { KEY_ROUTES, setup, snapshot } from './test-app.js';

describe('organization isolation', () => {
  it.each(KEY_ROUTES)(
    "%s answers 404 for another organization's key and changes nothing",
    async (_r, send) => {
      const { as, keyward, createKey } = setup();
      const theirs = await createKey('org_b', { name: 'Theirs', type: 'public' });
      const before = await snapshot(keyward, 'org_b', theirs.key.id);
      const res = await send(as('org_a'), theirs.key.id);
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      expect(res.text).not.toContain(theirs.token);
      expect(await snapshot(keyward, 'org_b', theirs.key.id)).toEqual(before);
      expect((await keyward.listKeys('org_b')).keys).toEqual([before]);
      expect((await keyward.listKeys('org_a')).keys).toEqual([]);
      expect(await keyward.verify(theirs.token)).toMatchObject({ valid: true });
    },
  );

  it('answers the same 404 for another organization key as for an unknown id', async () => {
    const { as, createKey } = setup();
    const theirs = await createKey('org_b');
    const other = await as('org_a').get(`/${theirs.key.id}`);
    const unknown = await as('org_a').get('/key_0123456789ABCDEFGHIJ');
    expect(other.status).toBe(unknown.status);
    expect(other.body).toEqual(unknown.body);
  });

  it("never lists another organization's keys", async () => {
    const { as, createKey } = setup();
    const mine = await createKey('org_a');
    await createKey('org_b');
    await createKey('org_b', { name: 'Theirs too', type: 'public' });
    const res = await as('org_a').get();
    expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([mine.key.id]);
  });

  it("creates keys in the caller's organization only", async () => {
    const { as, keyward } = setup();
    const res = await as('org_a').post('', { name: 'Mine', type: 'secret' });
    expect(res.body.data.organizationId).toBe('org_a');
    expect((await keyward.listKeys('org_b')).keys).toEqual([]);
    expect((await keyward.listKeys('org_a')).keys.map((k) => k.id)).toEqual([res.body.data.id]);
  });

  it('ignores an organizationId in the body', async () => {
    const { as, keyward } = setup();
    const res = await as('org_a').post('', { name: 'Sneaky', type: 'secret', organizationId: 'org_b' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'organizationId', message: 'Unknown field.' }]);
    expect((await keyward.listKeys('org_b')).keys).toEqual([]);
  });
});
