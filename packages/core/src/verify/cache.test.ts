import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenHasher } from '../format/hash.js';
import { generateToken } from '../format/key-format.js';
import { createKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyStore } from '../store/store.js';
import { switchableStore, TEST_PEPPER, testClock, testKeyward } from '../testing/fixtures.js';
import { delegatingStore } from '../testing/index.js';
import { VerifyCache } from './cache.js';

const ORG = 'org_cache';

async function cachedKey(overrides = {}) {
  const counting = switchableStore();
  const setup = testKeyward({ store: counting.store, ...overrides });
  const created = await setup.keyward.createKey(ORG, { name: 'Cached', type: 'secret' });
  expect((await setup.keyward.verify(created.token)).valid).toBe(true);
  return { ...setup, ...created, calls: counting.state };
}

describe('the verify cache', () => {
  it('answers a repeated verify without reading the store again', async () => {
    const { keyward, token, calls } = await cachedKey();
    for (let i = 0; i < 10; i++) expect((await keyward.verify(token)).valid).toBe(true);
    expect(calls.lookups).toBe(1);
  });

  it('refuses a cached key on the very next verify once it is deleted', async () => {
    const { keyward, key, token } = await cachedKey();
    await keyward.deleteKey(ORG, key.id);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('refuses a cached key on the very next verify once it is disabled', async () => {
    const { keyward, key, token } = await cachedKey();
    await keyward.updateKey(ORG, key.id, { disabled: true });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('applies a scope change to a cached key on the very next verify', async () => {
    const { keyward, key, token } = await cachedKey();
    await keyward.updateKey(ORG, key.id, { scopes: ['snippets:read'] });
    expect(await keyward.verify(token, { scopes: ['snippets:write'] })).toMatchObject({
      code: 'insufficient_scope',
    });
  });

  it('applies an expiry moved closer to a cached key on the next verify', async () => {
    const { keyward, key, token, clock } = await cachedKey();
    await keyward.updateKey(ORG, key.id, { expiresAt: new Date(clock.now() + 1) });
    clock.advance(1);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
  });

  it('never answers valid for a cached key past its expiry, even within the cache ttl', async () => {
    const { keyward, clock, store } = testKeyward({ cache: { ttlMs: 3_600_000 } });
    const { token } = await keyward.createKey(ORG, {
      name: 'Brief',
      type: 'secret',
      expiresAt: new Date(clock.now() + 500),
    });
    expect((await keyward.verify(token)).valid).toBe(true);
    clock.advance(500);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'expired_api_key' });
    expect(store).toBeInstanceOf(MemoryKeyStore);
  });

  it('sees changes made by another instance through the store feed', async () => {
    const store = new MemoryKeyStore();
    const a = testKeyward({ store }).keyward;
    const b = testKeyward({ store }).keyward;
    const { key, token } = await a.createKey(ORG, { name: 'Shared', type: 'secret' });
    expect((await b.verify(token)).valid).toBe(true);
    await a.deleteKey(ORG, key.id);
    expect(await b.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
  });

  it('reads the store again once the ttl has passed', async () => {
    const { keyward, token, calls, clock } = await cachedKey({ cache: { ttlMs: 1000 } });
    clock.advance(999);
    await keyward.verify(token);
    expect(calls.lookups).toBe(1);
    clock.advance(2); // lru-cache treats an entry as stale once its age exceeds the ttl
    await keyward.verify(token);
    expect(calls.lookups).toBe(2);
  });

  it('lets a flood of unknown tokens reach the store once per token per negative ttl', async () => {
    const { store, state: calls } = switchableStore();
    const { keyward, clock } = testKeyward({ store, cache: { ttlMs: 60_000, negativeTtlMs: 5_000 } });
    const tokens = Array.from({ length: 50 }, () => generateToken('kw', 'secret'));
    for (let round = 0; round < 10; round++) {
      await Promise.all(tokens.map((t) => keyward.verify(t)));
      clock.advance(400);
    }
    expect(calls.lookups).toBe(50);
    clock.advance(1_001);
    await Promise.all(tokens.map((t) => keyward.verify(t)));
    expect(calls.lookups).toBe(100);
  });

  it('shares one store read among concurrent verifies of the same token', async () => {
    const { store, state: calls } = switchableStore();
    const { keyward } = testKeyward({ store });
    const token = generateToken('kw', 'secret');
    await Promise.all(Array.from({ length: 100 }, () => keyward.verify(token)));
    expect(calls.lookups).toBe(1);
  });

  it('does not cache an answer read before a change that happened meanwhile', async () => {
    const inner = new MemoryKeyStore();
    const clock = testClock();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let hold = false;
    const store = delegatingStore(inner, {
      findByHash: async (hash) => {
        const found = await inner.findByHash(hash);
        if (hold) await gate;
        return found;
      },
    });
    const keyward = createKeyward({ store, scopes: ['a'], clock: clock.now, pepper: TEST_PEPPER });
    const { key, token } = await keyward.createKey(ORG, { name: 'Racy', type: 'secret' });
    hold = true;
    const pending = keyward.verify(token);
    await keyward.updateKey(ORG, key.id, { disabled: true });
    release();
    expect((await pending).valid).toBe(true); // read before the change: fine for this one request
    hold = false;
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('reads the store on every verify when the cache is off', async () => {
    const { keyward, token, calls } = await cachedKey({ cache: false });
    await keyward.verify(token);
    await keyward.verify(token);
    expect(calls.lookups).toBe(3);
  });
});

describe('the store change feed', () => {
  it('drops every cached key when the feed says it may have missed changes', async () => {
    const inner = new MemoryKeyStore();
    let announce: (event: { reset: true }) => void = () => {};
    const store: KeyStore = Object.assign(inner, {
      subscribe: (listener: (event: { reset: true }) => void) => {
        announce = listener;
        return () => {};
      },
    });
    const { keyward } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Missed', type: 'secret' });
    expect((await keyward.verify(token)).valid).toBe(true);
    // A change the feed never announced (say, written while it was disconnected):
    await inner.update(ORG, key.id, { disabled: true });
    expect((await keyward.verify(token)).valid).toBe(true);
    announce({ reset: true });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });
});

describe('VerifyCache entry ids', () => {
  const options = { max: 10, ttlMs: 60_000, negativeTtlMs: 5_000, negativeMax: 10 };

  it('are neither the token nor its stored hash, nor made of them, and differ between instances', () => {
    const token = generateToken('kw', 'secret');
    const a = new VerifyCache(options, Date.now);
    const b = new VerifyCache(options, Date.now);
    const entryId = a.entryIdFor(token);
    const stored = [createTokenHasher(TEST_PEPPER)(token), createTokenHasher()(token)];
    const forms = [token, ...stored, ...stored.map((h) => Buffer.from(h, 'hex').toString('latin1'))];
    for (const form of forms) {
      expect(entryId).not.toBe(form);
      expect(form.includes(entryId) || entryId.includes(form)).toBe(false);
    }
    expect(entryId).not.toBe(createHash('sha256').update(token).digest('binary'));
    expect(entryId).toHaveLength(32);
    expect(a.entryIdFor(token)).toBe(entryId);
    expect(b.entryIdFor(token)).not.toBe(entryId);
  });
});
