import { MemoryKeyStore } from './memory-store.js';
import { runKeyStoreConformance } from '../testing/index.js';

runKeyStoreConformance('MemoryKeyStore', {
  createStore: () => new MemoryKeyStore(),
  createEventStore: (options) => new MemoryKeyStore(options),
});
