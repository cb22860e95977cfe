export { switchableStore, TEST_PEPPER, testClock } from './helpers.js';

import type { KeywardOptions } from '../config/options.js';
import { createKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { TEST_PEPPER, testClock } from './helpers.js';

/** A Keyward with the demo's catalog on a fresh memory store and a test clock. */
export function testKeyward(overrides: Partial<KeywardOptions> = {}) {
  const clock = testClock();
  const store = overrides.store ?? new MemoryKeyStore();
  const keyward = createKeyward({
    store,
    scopes: ['snippets:read', 'snippets:write'],
    publicScopes: ['snippets:read'],
    clock: clock.now,
    pepper: TEST_PEPPER,
    ...overrides,
  });
  return { keyward, clock, store };
}
