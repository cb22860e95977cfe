import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../store/memory-store.js';
import { testKeyward } from '../testing/fixtures.js';

const ORG = 'org_chain';

async function threeKeyChain() {
  const { keyward, clock, store } = testKeyward();
  const { key: a } = await keyward.createKey(ORG, { name: 'Chain', type: 'secret' });
  clock.advance(1000);
  await keyward.updateKey(ORG, a.id, { name: 'Chain 2' });
  clock.advance(1000);
  const { key: b } = await keyward.rollKey(ORG, a.id, { gracePeriodSeconds: 0 });
  clock.advance(1000);
  const { key: c } = await keyward.rollKey(ORG, b.id, { gracePeriodSeconds: 0 });
  clock.advance(1000);
  // Another key's events are not part of the chain.
  await keyward.createKey(ORG, { name: 'Other', type: 'secret' });
  return { keyward, store, a, b, c };
}

describe('listEvents with chain: a key and the keys it replaced and was replaced by (docs/reference.md §7)', () => {
  it('lists the events of the whole roll chain, from any key of it, newest first', async () => {
    const { keyward, a, b, c } = await threeKeyChain();
    const expected = [
      ['key.created', c.id],
      ['key.rolled', b.id],
      ['key.created', b.id],
      ['key.rolled', a.id],
      ['key.updated', a.id],
      ['key.created', a.id],
    ].sort();
    for (const keyId of [a.id, b.id, c.id]) {
      const { events, nextCursor } = await keyward.listEvents(ORG, { keyId, chain: true });
      expect(events.map((e) => [e.type, e.keyId]).sort(), keyId).toEqual(expected);
      expect(events.map((e) => e.at.getTime())).toEqual(
        events.map((e) => e.at.getTime()).sort((x, y) => y - x),
      );
      expect(nextCursor).toBeNull();
    }
    // Without chain, only the key's own events.
    const own = await keyward.listEvents(ORG, { keyId: b.id });
    expect(own.events.map((e) => e.type).sort()).toEqual(['key.created', 'key.rolled']);
  });

  it('pages through the chain as through one list (limit and cursor)', async () => {
    const { keyward, b } = await threeKeyChain();
    const whole = (await keyward.listEvents(ORG, { keyId: b.id, chain: 'true' as never })).events;
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await keyward.listEvents(ORG, {
        keyId: b.id,
        chain: true,
        limit: 2,
        ...(cursor && { cursor }),
      });
      paged.push(...page.events.map((e) => e.id));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(paged).toEqual(whole.map((e) => e.id));
    expect(paged).toHaveLength(6);
  });

  it('filters the chain by type', async () => {
    const { keyward, a, b } = await threeKeyChain();
    const { events } = await keyward.listEvents(ORG, { keyId: a.id, chain: true, type: 'key.rolled' });
    expect(events.map((e) => e.keyId).sort()).toEqual([a.id, b.id].sort());
  });

  it('refuses chain without keyId, and a chain value that is not a boolean', async () => {
    const { keyward } = testKeyward({ store: new MemoryKeyStore() });
    await expect(keyward.listEvents(ORG, { chain: true })).rejects.toMatchObject({
      code: 'validation_error',
      details: [{ path: 'chain' }],
    });
    await expect(keyward.listEvents(ORG, { keyId: 'key_x', chain: 'yes' as never })).rejects.toMatchObject({
      code: 'validation_error',
    });
  });

  it("an unknown or another organization's key id lists nothing", async () => {
    const { keyward, a } = await threeKeyChain();
    expect((await keyward.listEvents('org_other', { keyId: a.id, chain: true })).events).toEqual([]);
    expect((await keyward.listEvents(ORG, { keyId: 'key_unknown', chain: true })).events).toEqual([]);
  });
});
