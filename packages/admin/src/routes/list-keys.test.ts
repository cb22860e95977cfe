import { describe, expect, it } from 'vitest';
import { ISO, KEY_FIELDS, setup } from '../test-app.js';

describe('GET / (list keys)', () => {
  it('answers an empty list for an organization without keys', async () => {
    const { api } = setup();
    const res = await api.get();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [] });
  });

  it('lists keys newest first', async () => {
    const { api, clock, createKey } = setup();
    const first = await createKey('org_a', { name: 'First', type: 'secret' });
    clock.advance(1000);
    const second = await createKey('org_a', { name: 'Second', type: 'public' });
    clock.advance(1000);
    const third = await createKey('org_a', { name: 'Third', type: 'secret' });
    const res = await api.get();
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([
      third.key.id,
      second.key.id,
      first.key.id,
    ]);
  });

  it('lists keys in the exact shape of the contract Key, with ISO times or null', async () => {
    const { api, createKey } = setup();
    await createKey('org_a', { name: 'Secret', type: 'secret', expiresAt: '2031-01-01T00:00:00Z' });
    const res = await api.get();
    const [key] = res.body.data;
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    for (const field of ['createdAt', 'updatedAt', 'expiresAt']) expect(key[field]).toMatch(ISO);
    for (const field of ['lastUsedAt', 'rolledAt', 'replacedBy']) expect(key[field]).toBeNull();
    expect(key.expiresAt).toBe('2031-01-01T00:00:00.000Z');
  });

  it('shows the token of public keys and never the token of secret keys', async () => {
    const { api, createKey } = setup();
    const publicKey = await createKey('org_a', { name: 'Website', type: 'public' });
    const secretKey = await createKey('org_a', { name: 'Server', type: 'secret' });
    const res = await api.get();
    const byId = new Map(res.body.data.map((k: { id: string }) => [k.id, k]));
    expect(byId.get(publicKey.key.id)).toMatchObject({ token: publicKey.token });
    expect(byId.get(secretKey.key.id)).not.toHaveProperty('token');
    expect(res.text).not.toContain(secretKey.token);
    expect(res.text).not.toMatch(/"hash"/);
  });

  it('shows each status: active, rolled, disabled and expired', async () => {
    const { api, keyward, clock, createKey } = setup();
    const active = await createKey('org_a', { name: 'Active', type: 'secret' });
    const disabled = await createKey('org_a', { name: 'Disabled', type: 'secret' });
    await keyward.updateKey('org_a', disabled.key.id, { disabled: true });
    const expiring = await createKey('org_a', {
      name: 'Expiring',
      type: 'secret',
      expiresAt: '2030-01-01T00:01:00Z',
    });
    const rolled = await createKey('org_a', { name: 'Rolled', type: 'secret' });
    clock.advance(60_000);
    const { key: replacement } = await keyward.rollKey('org_a', rolled.key.id, { gracePeriodSeconds: 3600 });
    const res = await api.get();
    const status = Object.fromEntries(
      res.body.data.map((k: { id: string; status: string }) => [k.id, k.status]),
    );
    expect(status).toEqual({
      [active.key.id]: 'active',
      [disabled.key.id]: 'disabled',
      [expiring.key.id]: 'expired',
      [rolled.key.id]: 'rolled',
      [replacement.id]: 'active',
    });
  });

  it('never lists a deleted key', async () => {
    const { api, keyward, createKey } = setup();
    const kept = await createKey();
    const deleted = await createKey();
    await keyward.deleteKey('org_a', deleted.key.id);
    const res = await api.get();
    expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([kept.key.id]);
  });
});
