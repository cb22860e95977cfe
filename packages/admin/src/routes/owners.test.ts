import { describe, expect, it } from 'vitest';
import { setup } from '../test-app.js';

describe('owner and meta through the admin API', () => {
  it('sets meta and owner on POST, changes them on PATCH, and filters GET / by ?owner=', async () => {
    const { api, as } = setup();
    const created = await api.post('', {
      name: 'Billing',
      type: 'secret',
      owner: { type: 'service', id: 'billing' },
      meta: { customerId: 'cus_1' },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      owner: { type: 'service', id: 'billing' },
      meta: { customerId: 'cus_1' },
    });
    const other = await api.post('', { name: 'Mine', type: 'secret', owner: { type: 'user', id: 'u_1' } });
    const listed = await api.get('?owner=service:billing');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([created.body.data.id]);
    expect((await api.get('?owner=user:u_1')).body.data.map((k: { id: string }) => k.id)).toEqual([
      other.body.data.id,
    ]);
    const bad = await api.get('?owner=team:x');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');

    const patched = await api.patch(`/${created.body.data.id}`, {
      meta: { customerId: 'cus_2' },
      owner: null,
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({ meta: { customerId: 'cus_2' }, owner: null });
    // Another organization sees neither the key nor its meta.
    const theirs = await as('org_b').get(`/${created.body.data.id}`);
    expect(theirs.status).toBe(404);
    expect(JSON.stringify((await as('org_b').get('')).body)).not.toContain('cus_2');
  });

  it('refuses meta over 1 kB with 400 validation_error at path meta', async () => {
    const { api } = setup();
    const res = await api.post('', { name: 'Big', type: 'secret', meta: { blob: 'x'.repeat(1100) } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'meta', message: expect.stringMatching(/1024 bytes/) }]);
  });
});
