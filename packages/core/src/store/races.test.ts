import { runRaceScenarios } from '../testing/index.js';
import { MemoryKeyStore } from './memory-store.js';

// The memory store's updates are atomic: every invariant is asserted. One store, seen by two instances.
const seed = Number(process.env.KEYWARD_RACES_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`[races] seed ${seed} (replay with KEYWARD_RACES_SEED=${seed})`);
runRaceScenarios('MemoryKeyStore', {
  createStore: () => new MemoryKeyStore(),
  createPeers: (store) => [store],
  seed,
  rounds: Number(process.env.KEYWARD_RACES_ROUNDS ?? 20),
});
