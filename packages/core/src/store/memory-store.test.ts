import { describe, expect, it } from 'vitest';
import { runKeyStoreConformance } from '../testing/index.js';
import { MemoryKeyStore } from './memory-store.js';

runKeyStoreConformance('MemoryKeyStore', {
  createStore: () => new MemoryKeyStore(),
  createEventStore: (options) => new MemoryKeyStore(options),
});

describe('MemoryKeyStore options', () => {
  it('refuses an unknown option, naming it', () => {
    expect(() => new MemoryKeyStore({ retentionDays: 30 } as never)).toThrow(
      /^MemoryKeyStore: unknown option "retentionDays"$/,
    );
    expect(() => new MemoryKeyStore({ eventRetentionDays: 30 })).not.toThrow();
  });
});
