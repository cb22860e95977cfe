import { describe, expect, it, vi } from 'vitest';
import { createKeyward, isKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { TEST_PEPPER, testClock, testKeyward } from '../testing/fixtures.js';

const ORG = 'org_options';

describe('options', () => {
  it('throws TypeError for wrong options at start-up', () => {
    const store = new MemoryKeyStore();
    const bad = [
      undefined,
      {},
      { store: {}, scopes: [] },
      { store, scopes: 'read' },
      { store, scopes: ['bad scope'] },
      { store, scopes: ['a'], publicScopes: ['b'] },
      { store, scopes: [], prefix: 'KW' },
      { store, scopes: [], pepper: 'short' },
      { store, scopes: [] },
      { store, scopes: [], pepper: '' },
      { store, scopes: [], pepper: true },
      { store, scopes: [], pepper: TEST_PEPPER, cache: { ttlMs: -1 } },
      { store, scopes: [], pepper: TEST_PEPPER, cache: { ttl: -1 } },
      { store, scopes: [], cache: { max: 1.5 } },
      { store, scopes: [], clock: 5 },
    ];
    for (const options of bad)
      expect(() => createKeyward(options as never), JSON.stringify(options)).toThrow(TypeError);
  });

  it('refuses an unknown option, also inside cache, usage and events, naming it', () => {
    const base = { store: new MemoryKeyStore(), scopes: ['a'], pepper: TEST_PEPPER };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ scope: ['a'] }, /^Keyward: unknown option "scope"$/],
      [{ cache: { ttlSeconds: 5 } }, /^Keyward: cache: unknown option "ttlSeconds"$/],
      [{ usage: { interval: 5 } }, /^Keyward: usage: unknown option "interval"$/],
      [{ events: { retentionDays: 5 } }, /^Keyward: events: unknown option "retentionDays"$/],
      [{ cache: 'fast' }, /^Keyward: cache must be an object$/],
    ];
    for (const [extra, message] of cases) {
      expect(() => createKeyward({ ...base, ...extra } as never), JSON.stringify(extra)).toThrow(message);
    }
  });

  it('takes the deprecated cache.ttl and cache.negativeTtl as ttlMs and negativeTtlMs, never both', async () => {
    const clock = testClock();
    const store = new MemoryKeyStore();
    const old = createKeyward({
      store,
      scopes: ['a'],
      pepper: TEST_PEPPER,
      clock: clock.now,
      cache: { ttl: 1000 },
    });
    const { token } = await old.createKey(ORG, { name: 'Cached', type: 'secret' });
    expect((await old.verify(token)).valid).toBe(true);
    const findByHash = vi.spyOn(store, 'findByHash');
    await old.verify(token);
    expect(findByHash).not.toHaveBeenCalled();
    clock.advance(1001);
    await old.verify(token);
    expect(findByHash).toHaveBeenCalledTimes(1);
    expect(() =>
      createKeyward({ store, scopes: ['a'], pepper: TEST_PEPPER, cache: { ttl: 1000, ttlMs: 1000 } }),
    ).toThrow(/cache.ttl is cache.ttlMs/);
    expect(() =>
      createKeyward({
        store,
        scopes: ['a'],
        pepper: TEST_PEPPER,
        cache: { negativeTtl: 1, negativeTtlMs: 1 },
      }),
    ).toThrow(/cache.negativeTtl is cache.negativeTtlMs/);
    await old.close();
  });

  it('requires a pepper, and warns once at start when pepper: false opts into plain SHA-256', async () => {
    expect(() => createKeyward({ store: new MemoryKeyStore(), scopes: ['a'] } as never)).toThrow(
      /pepper is required/,
    );
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['a'], pepper: false });
      const { token } = await keyward.createKey(ORG, { name: 'Plain', type: 'secret' });
      expect((await keyward.verify(token)).valid).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual(['KEYWARD_NO_PEPPER']);
    expect(warnings[0]?.message).not.toMatch(/[0-9a-f]{64}/);
  });

  it('does not mutate the options it is given', () => {
    const options = {
      store: new MemoryKeyStore(),
      scopes: ['a'],
      publicScopes: ['a'],
      cache: { max: 5 },
      pepper: TEST_PEPPER,
    };
    const copy = structuredClone({ ...options, store: null });
    createKeyward(Object.freeze(options));
    expect({ ...options, store: null }).toEqual(copy);
  });

  it('rejects organization ids that are not non-empty strings', async () => {
    const { keyward } = testKeyward();
    await expect(keyward.listKeys('')).rejects.toThrow(TypeError);
    await expect(keyward.createKey(42 as never, { name: 'A', type: 'secret' })).rejects.toThrow(TypeError);
  });
});

describe('isKeyward', () => {
  it('knows a service from createKeyward, also copied with spread, and nothing else', () => {
    const { keyward } = testKeyward();
    expect(isKeyward(keyward)).toBe(true);
    expect(isKeyward({ ...keyward })).toBe(true);
    const lookalike = Object.fromEntries(Object.entries(keyward));
    expect(Object.keys(lookalike)).toContain('verify');
    for (const value of [lookalike, {}, null, undefined, 'keyward', () => keyward])
      expect(isKeyward(value)).toBe(false);
    expect(JSON.stringify(Object.keys(keyward))).not.toContain('keyward.service');
  });
});
