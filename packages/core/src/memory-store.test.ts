import { MemoryKeyStore } from './memory-store.js';
import { runKeyStoreConformance } from './testing.js';

runKeyStoreConformance('MemoryKeyStore', {
  createStore: () => new MemoryKeyStore(),
  createEventStore: (options) => new MemoryKeyStore(options),
});
