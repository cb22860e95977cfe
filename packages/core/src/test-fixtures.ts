export { switchableStore, testClock } from './testing.js';

import { createKeyward } from './keyward.js';
import { MemoryKeyStore } from './memory-store.js';
import type { KeywardOptions } from './options.js';
import { testClock } from './testing.js';

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
