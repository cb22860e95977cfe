import { describe, expect, it } from 'vitest';
import { ISO, KEY_FIELDS, setup } from '../test-app.js';

describe('GET / (list keys)', () => {
  it('answers an empty list for an organization without keys', async () => {
    const { api } = setup();
    const res = await api.get();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [], nextCursor: null });
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

  it('lists keys in the exact shape of docs/reference.md Key, with ISO times or null', async () => {
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

  it('pages through 250 keys, each seen once, while keys are created and deleted between pages', async () => {
    const { api, clock, createKey, keyward } = setup();
    const initial: string[] = [];
    for (let i = 0; i < 250; i++) {
      initial.push((await createKey('org_a', { name: `Key ${i}`, type: 'secret' })).key.id);
      if (i % 3 === 0) clock.advance(1000);
    }
    const seen: string[] = [];
    const deleted = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api.get(cursor ? `?limit=40&cursor=${encodeURIComponent(cursor)}` : '?limit=40');
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((k: { id: string }) => k.id));
      cursor = res.body.nextCursor;
      pages++;
      // Between page loads: a new key, one key already seen and one not yet seen deleted.
      clock.advance(1000);
      await createKey('org_a', { name: `Late ${pages}`, type: 'public' });
      for (const id of [
        initial.find((k) => seen.includes(k) && !deleted.has(k)),
        initial.findLast((k) => !seen.includes(k) && !deleted.has(k)),
      ]) {
        if (!id) continue;
        deleted.add(id);
        await keyward.deleteKey('org_a', id);
      }
    } while (cursor && pages < 50);
    expect(new Set(seen).size).toBe(seen.length);
    const expected = initial.filter((id) => seen.includes(id) || !deleted.has(id));
    expect([...seen].sort()).toEqual(expected.sort());
    expect(pages).toBeGreaterThan(5);
  });

  it('searches by name or last 4 characters and filters by type and status', async () => {
    const { api, clock, createKey, keyward } = setup();
    const ci = await createKey('org_a', { name: 'Deploy CI', type: 'secret' });
    clock.advance(1000);
    const web = await createKey('org_a', { name: 'Website', type: 'public' });
    await keyward.updateKey('org_a', web.key.id, { disabled: true });
    const ids = async (query: string) => {
      const res = await api.get(query);
      expect(res.status).toBe(200);
      return res.body.data.map((k: { id: string }) => k.id);
    };
    expect(await ids('?q=deploy')).toEqual([ci.key.id]);
    expect(await ids(`?q=${ci.token.slice(-4)}`)).toContain(ci.key.id);
    expect(await ids('?type=public')).toEqual([web.key.id]);
    expect(await ids('?status=disabled')).toEqual([web.key.id]);
    expect(await ids('?status=active&type=secret&q=CI')).toEqual([ci.key.id]);
  });

  it.each([
    '?limit=0',
    '?limit=101',
    '?limit=abc',
    '?limit=1&limit=2',
    '?cursor=forged',
    `?cursor=${Buffer.from('{"t":1,"id":"key_x"}').toString('base64url')}`,
    `?cursor=${Buffer.from('{"t":1e300,"id":"key_0123456789ABCDEFGHIJ"}').toString('base64url')}`,
    '?status=deleted',
    '?type=both',
    '?q[a]=b',
    '?sort=name',
  ])('answers 400 validation_error, never 5xx, to %s', async (query) => {
    const { api, createKey } = setup();
    await createKey();
    const res = await api.get(query);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details.length).toBeGreaterThan(0);
  });
});
