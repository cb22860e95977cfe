import { MemoryKeyStore } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { START, setup } from '../test-app.js';

const DAY = 86_400_000;

describe('GET /non-compliant (docs/reference.md §11)', () => {
  it('lists the keys made before a tighter lifetime policy, oldest first, with the reason', async () => {
    const store = new MemoryKeyStore();
    // Made while the app had no policy.
    const before = setup({ store });
    const never = await before.createKey('org_a', { name: 'Forever', type: 'secret' });
    before.clock.advance(1);
    const far = await before.createKey('org_a', {
      name: 'Far',
      type: 'public',
      expiresAt: new Date(START + 400 * DAY),
    });
    before.clock.advance(1);
    await before.createKey('org_a', { name: 'Soon', type: 'secret', expiresAt: new Date(START + 30 * DAY) });
    await before.createKey('org_b', { name: 'Theirs', type: 'secret' });

    const { api, as } = setup({
      store,
      lifetime: { secret: { max: 90, required: true }, public: { max: 365 } },
    });
    const res = await api.get('/non-compliant');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [
        {
          id: never.key.id,
          reason: 'Never expires, but the lifetime policy says secret keys must expire.',
        },
        {
          id: far.key.id,
          reason: 'Public keys may not be set to expire this far ahead any more (lifetime policy).',
        },
      ],
    });
    expect((await as('org_b').get('/non-compliant')).body.data).toHaveLength(1);
    expect((await as('org_c').get('/non-compliant')).body).toEqual({ data: [] });
  });

  it('lists nothing without a policy', async () => {
    const { api, createKey } = setup();
    await createKey('org_a', { name: 'Forever', type: 'secret' });
    expect((await api.get('/non-compliant')).body).toEqual({ data: [] });
  });

  it('answers 405 with Allow for another method, before authorize', async () => {
    const { as } = setup();
    const res = await as(null).delete('/non-compliant');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });
});
