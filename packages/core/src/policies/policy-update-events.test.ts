// Where policies (docs/reference.md §6) meet events (§7): a PATCH of limits, allowed origins or IPs is a change like
// any other — stored, and recorded as one `key.updated` naming the fields — and an unchanged list is none.
import { describe, expect, it } from 'vitest';
import { testKeyward } from '../testing/fixtures.js';

const ORG = 'org_policy_events';

describe('updating a key’s policies', () => {
  it('stores new limits, origins and IPs and records key.updated with their names', async () => {
    const { keyward, clock } = testKeyward();
    const { key } = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    clock.advance(1000);
    const updated = await keyward.updateKey(ORG, key.id, {
      limits: [{ limit: 20, windowSeconds: 1 }],
      allowedOrigins: ['https://app.example.com'],
      allowedIps: ['10.0.0.0/8'],
    });
    expect(updated).toMatchObject({
      limits: [{ limit: 20, windowSeconds: 1 }],
      allowedOrigins: ['https://app.example.com'],
      allowedIps: ['10.0.0.0/8'],
    });
    expect(await keyward.getKey(ORG, key.id)).toMatchObject({ limits: [{ limit: 20, windowSeconds: 1 }] });
    const { events } = await keyward.listEvents(ORG, { keyId: key.id });
    expect(events.map((event) => [event.type, event.changes])).toEqual([
      ['key.updated', ['limits', 'allowedOrigins', 'allowedIps']],
      ['key.created', undefined],
    ]);
  });

  it('records nothing for the same limits again, and one change for a different limit', async () => {
    const { keyward, clock } = testKeyward();
    const { key } = await keyward.createKey(ORG, {
      name: 'Web',
      type: 'secret',
      limits: [{ limit: 20, windowSeconds: 1 }],
    });
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { limits: [{ limit: 20, windowSeconds: 1 }] });
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { limits: [{ limit: 30, windowSeconds: 1 }] });
    const { events } = await keyward.listEvents(ORG, { keyId: key.id });
    expect(events.map((event) => event.type)).toEqual(['key.updated', 'key.created']);
    expect((await keyward.getKey(ORG, key.id))?.limits).toEqual([{ limit: 30, windowSeconds: 1 }]);
  });
});
