import { describe, expect, it } from 'vitest';
import { generateToken } from './format/key-format.js';
import { KeywardError } from './shared/errors.js';
import { MemoryKeyStore } from './store/memory-store.js';
import { switchableStore, testKeyward } from './testing/fixtures.js';
import { delegatingStore } from './testing/index.js';

// Regression tests of trust under adversity, on the memory store. Each
// failed before the fix it names.

const ORG = 'org_adversity';

/** A memory store whose `findByHash` waits until `release()` is called (a slow remote database). */
function gatedStore() {
  const inner = new MemoryKeyStore();
  let release: () => void = () => {};
  let gate: Promise<void> | null = null;
  const store = delegatingStore(inner, {
    findByHash: async (h) => {
      const answer = await inner.findByHash(h);
      if (gate) await gate;
      return answer;
    },
  });
  return {
    store,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      gate = null;
      release();
    },
  };
}

describe('in-flight lookups and invalidation (item 4)', () => {
  it('does not let a verify that starts after a disable join a lookup that began before it', async () => {
    const gated = gatedStore();
    const { keyward } = testKeyward({ store: gated.store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    gated.hold();
    const before = keyward.verify(token); // reads the active key, then waits
    await new Promise((resolve) => setTimeout(resolve, 10));
    await keyward.updateKey(ORG, key.id, { disabled: true });
    const after = keyward.verify(token); // starts after the disable returned
    gated.release();
    expect((await before).valid).toBe(true); // began before the change: either answer is allowed
    expect(await after).toEqual({ valid: false, code: 'disabled_api_key' });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('does not let a verify that starts after a delete join a lookup that began before it', async () => {
    const gated = gatedStore();
    const { keyward } = testKeyward({ store: gated.store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    gated.hold();
    const before = keyward.verify(token);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await keyward.deleteKey(ORG, key.id);
    const after = keyward.verify(token);
    gated.release();
    await before;
    expect(await after).toEqual({ valid: false, code: 'invalid_api_key' });
  });
});

/** A memory store whose next `update` writes and then throws, as a store whose change record failed. */
function halfFailingStore(inner = new MemoryKeyStore()) {
  const state = { failAfterWrite: false };
  const store = delegatingStore(inner, {
    update: async (o, i, c, x) => {
      const updated = await inner.update(o, i, c, x);
      if (state.failAfterWrite) throw new Error('change log write failed');
      return updated;
    },
  });
  return { store, state, inner };
}

describe('half-failed writes (item 5)', () => {
  it('refuses a deleted key on this instance at once although the store failed after writing', async () => {
    const { store, state } = halfFailingStore();
    const { keyward } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    expect((await keyward.verify(token)).valid).toBe(true); // cached
    state.failAfterWrite = true;
    const error = await keyward.deleteKey(ORG, key.id).catch((e: KeywardError) => e);
    expect(error).toMatchObject({ code: 'key_store_unavailable' });
    for (let i = 0; i < 10; i++)
      expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('refuses a disabled key on this instance at once although the store failed after writing', async () => {
    const { store, state } = halfFailingStore();
    const { keyward } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    await keyward.verify(token);
    state.failAfterWrite = true;
    await expect(keyward.updateKey(ORG, key.id, { disabled: true })).rejects.toThrow(KeywardError);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('keeps the successor of a roll whose write landed although the store then failed', async () => {
    const { store, state, inner } = halfFailingStore();
    const { keyward } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    state.failAfterWrite = true;
    const rolled = await keyward.rollKey(ORG, key.id, { gracePeriodSeconds: 60 });
    state.failAfterWrite = false;
    expect(rolled.previous).toMatchObject({ id: key.id, status: 'rolled', replacedBy: rolled.key.id });
    expect((await keyward.verify(rolled.token)).valid).toBe(true);
    expect((await keyward.verify(token)).valid).toBe(true); // in its grace period
    expect((await inner.list(ORG)).map((k) => k.id).sort()).toEqual([key.id, rolled.key.id].sort());
  });

  it('takes back the successor when the roll did not land and the store failed', async () => {
    const inner = new MemoryKeyStore();
    let failNext = false;
    const store = delegatingStore(inner, {
      update: async (o, i, c, x) => {
        if (failNext) {
          failNext = false;
          throw new Error('timeout');
        }
        return inner.update(o, i, c, x);
      },
    });
    const { keyward } = testKeyward({ store });
    const { key } = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    failNext = true;
    await expect(keyward.rollKey(ORG, key.id)).rejects.toMatchObject({ code: 'key_store_unavailable' });
    const keys = (await keyward.listKeys(ORG)).keys;
    expect(keys.map((k) => [k.id, k.status])).toEqual([[key.id, 'active']]);
    // It can be rolled again once the store is back.
    expect((await keyward.rollKey(ORG, key.id)).previous.status).toBe('rolled');
  });
});

describe('negative cache (item 6)', () => {
  it('keeps good keys cached while a flood of distinct unknown tokens arrives', async () => {
    const { store, state } = switchableStore();
    const { keyward } = testKeyward({ store, cache: { max: 50 } });
    const good = await Promise.all(
      Array.from({ length: 20 }, (_, i) => keyward.createKey(ORG, { name: `Key ${i}`, type: 'secret' })),
    );
    for (const { token } of good) await keyward.verify(token);
    for (let i = 0; i < 2_000; i++) await keyward.verify(generateToken('kw', 'secret'));
    const lookups = state.lookups;
    for (const { token } of good) expect((await keyward.verify(token)).valid).toBe(true);
    expect(state.lookups).toBe(lookups); // every good key answered from the cache
  });
});
