import { MemoryKeyStore } from './memory-store.js';
import { runRaceScenarios } from './testing.js';

// The memory store's updates are atomic: every invariant is asserted.
runRaceScenarios('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
