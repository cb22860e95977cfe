import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import type { CreditPolicy } from '../shared/credit-types.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { TEST_PEPPER, testClock } from '../testing/index.js';

function service(clock = testClock()) {
  const store = new MemoryKeyStore();
  const keyward = createKeyward({
    store,
    scopes: ['read'],
    pepper: TEST_PEPPER,
    clock: clock.now,
    plans: { metered: { limits: [], credits: { remaining: 2 } }, free: { limits: [] } },
  });
  /** Spends `cost` with the key's credits as verify hands them out. */
  const spend = async (token: string, cost = 1) => {
    const result = await keyward.verify(token);
    if (!result.valid) throw new Error(result.code);
    const credits = result.policy?.credits as CreditPolicy;
    return (await keyward.spendCredits(credits, cost)).ok;
  };
  return { keyward, store, clock, spend };
}

describe('credits in the service', () => {
  it("gives each key on a plan with credits a balance of its own, read back with source 'plan'", async () => {
    const { keyward, spend } = service();
    const a = await keyward.createKey('org_1', { name: 'A', type: 'secret', plan: 'metered' });
    const b = await keyward.createKey('org_1', { name: 'B', type: 'secret', plan: 'metered' });
    expect([await spend(a.token), await spend(a.token), await spend(a.token)]).toEqual([true, true, false]);
    expect(await spend(b.token)).toBe(true);
    expect(await keyward.getCredits('org_1', a.key.id)).toEqual({
      remaining: 0,
      refill: null,
      refillsAt: null,
      source: 'plan',
    });
    const free = await keyward.createKey('org_1', { name: 'F', type: 'secret', plan: 'free' });
    expect((await keyward.verify(free.token)).valid && (await keyward.verify(free.token))).toMatchObject({
      policy: null,
    });
    expect(await keyward.getCredits('org_1', free.key.id)).toBeNull();
  });

  it('starts afresh on every set, records key.updated naming credits, and shares the balance with a roll', async () => {
    const { keyward, spend } = service();
    const { key, token } = await keyward.createKey('org_1', { name: 'K', type: 'secret' });
    await keyward.setCredits('org_1', key.id, { remaining: 2 }, { actor: { type: 'user', id: 'op_1' } });
    expect([await spend(token), await spend(token), await spend(token)]).toEqual([true, true, false]);
    await keyward.setCredits('org_1', key.id, { remaining: 3 });
    const rolled = await keyward.rollKey('org_1', key.id, { gracePeriodSeconds: 3600 });
    expect([await spend(token), await spend(rolled.token, 2)]).toEqual([true, true]);
    expect(await spend(token)).toBe(false);
    const { events } = await keyward.listEvents('org_1', { type: 'key.updated' });
    // Both at the same instant of the frozen clock: in either order.
    expect(events.map((e) => `${e.changes?.join()} by ${e.actor.id}`).sort()).toEqual([
      'credits by keyward',
      'credits by op_1',
    ]);
    // Removed: the key has no credits (it is on no plan), and spends nothing.
    await keyward.setCredits('org_1', rolled.key.id, null);
    expect(await keyward.getCredits('org_1', rolled.key.id)).toBeNull();
    expect((await keyward.verify(rolled.token)).valid).toBe(true);
  });

  it('refuses bad credits with 400 and unknown keys with 404, and bad options with TypeError', async () => {
    const { keyward } = service();
    const { key } = await keyward.createKey('org_1', { name: 'K', type: 'secret' });
    await expect(keyward.setCredits('org_1', key.id, { remaining: 1.5 })).rejects.toMatchObject({
      code: 'validation_error',
      details: [{ path: 'remaining' }],
    });
    await expect(
      keyward.setCredits('org_1', key.id, { remaining: 1, refill: { amount: 1, intervalSeconds: 1 } }),
    ).rejects.toMatchObject({ code: 'validation_error', details: [{ path: 'refill.intervalSeconds' }] });
    await expect(keyward.getCredits('org_1', 'key_0123456789ABCDEFGHIJ')).rejects.toMatchObject({
      code: 'not_found',
    });
    const store = new MemoryKeyStore();
    expect(() =>
      createKeyward({ store, scopes: ['read'], pepper: TEST_PEPPER, credits: { expectedInstances: 0 } }),
    ).toThrow(TypeError);
    expect(() =>
      createKeyward({
        store,
        scopes: ['read'],
        pepper: TEST_PEPPER,
        plans: { p: { limits: [], credits: { remaining: -1 } } },
      }),
    ).toThrow(TypeError);
  });
});
