import { runKeyStoreConformance } from '../testing/index.js';
import { MemoryKeyStore } from './memory-store.js';

runKeyStoreConformance('MemoryKeyStore', {
  createStore: () => new MemoryKeyStore(),
  createEventStore: (options) => new MemoryKeyStore(options),
});
