import { createKeyward } from './keyward.js';
import { MemoryKeyStore } from './memory-store.js';
import type { KeywardOptions } from './options.js';
import type { KeyStore } from './store.js';

/** A controllable clock starting at 2030-01-01T00:00:00Z. */
export function testClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

/** A memory store that counts the calls the service makes to it. */
export function countingStore(inner: KeyStore = new MemoryKeyStore()) {
  const calls = { findByHash: 0, fail: false };
  const store: KeyStore = {
    insert: (k) => inner.insert(k),
    findByHash: async (h) => {
      calls.findByHash++;
      if (calls.fail) throw new Error('connection refused');
      return inner.findByHash(h);
    },
    findById: (o, i) => inner.findById(o, i),
    findBySlot: (s) => inner.findBySlot(s),
    list: (o) => inner.list(o),
    update: (o, i, c, x) => inner.update(o, i, c, x),
  };
  return { store, calls };
}

/** A Keyward with the demo's catalog on a fresh memory store and a test clock. */
export function testKeyward(overrides: Partial<KeywardOptions> = {}) {
  const clock = testClock();
  const store = overrides.store ?? new MemoryKeyStore();
  const keyward = createKeyward({
    store,
    scopes: ['snippets:read', 'snippets:write'],
    publicScopes: ['snippets:read'],
    clock: clock.now,
    ...overrides,
  });
  return { keyward, clock, store };
}
