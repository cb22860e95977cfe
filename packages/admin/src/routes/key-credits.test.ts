import { describe, expect, it } from 'vitest';
import { setup } from '../test-app.js';

describe('credits and plans through the admin API (operator only)', () => {
  it('lets a customer read a key’s credits, and only the operator set and remove them', async () => {
    const { api, createKey, keyward } = setup();
    const { key } = await createKey();
    expect((await api.get(`/${key.id}/credits`)).body).toEqual({ data: null });

    const refused = await api.put(`/${key.id}/credits`, { remaining: 1000 });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect(await keyward.getCredits('org_a', key.id)).toBeNull();

    const set = await api
      .put(`/${key.id}/credits`, { remaining: 5, refill: { amount: 10, intervalSeconds: 3600 } })
      .set('x-operator', 'yes');
    expect(set.status).toBe(200);
    expect(set.body.data).toEqual({
      remaining: 5,
      refill: { amount: 10, intervalSeconds: 3600 },
      refillsAt: expect.stringMatching(/Z$/),
      source: 'key',
    });
    expect((await api.get(`/${key.id}/credits`)).body.data.remaining).toBe(5);
    const bad = await api.put(`/${key.id}/credits`, { remaining: 5, bonus: 1 }).set('x-operator', 'yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('bonus');

    const events = await keyward.listEvents('org_a', { type: 'key.updated' });
    expect(events.events.map((e) => e.changes)).toEqual([['credits']]);

    expect((await api.delete(`/${key.id}/credits`)).status).toBe(403);
    const removed = await api.delete(`/${key.id}/credits`).set('x-operator', 'yes');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ data: null });
    expect((await api.get('/key_0123456789ABCDEFGHIJ/credits')).status).toBe(404);
  });

  it('refuses `plan` from a customer on create and update with 400, and takes it from the operator', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const created = await api.post('', { name: 'Mine', type: 'secret', plan: null });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toEqual([
      { path: 'plan', message: "Only the app's operator sets a key's plan." },
    ]);
    const patched = await api.patch(`/${key.id}`, { plan: 'enterprise' });
    expect(patched.status).toBe(400);
    expect(patched.body.error.details[0].path).toBe('plan');
    const byOperator = await api
      .patch(`/${key.id}`, { plan: null, name: 'Renamed' })
      .set('x-operator', 'yes');
    expect(byOperator.status).toBe(200);
    expect(byOperator.body.data).toMatchObject({ name: 'Renamed', plan: null });
  });
});
