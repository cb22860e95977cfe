import { describe, expect, it } from 'vitest';
import { runKeyStoreConformance } from '../testing/index.js';
import { MemoryKeyStore } from './memory-store.js';
import { proxyStore } from './store-proxy.js';

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

// The suite skips, with the missing method as its reason, what a store without the optional extras lacks.
runKeyStoreConformance('MemoryKeyStore without its optional methods', {
  createStore: () =>
    proxyStore(new MemoryKeyStore(), {
      overrides: {
        rehash: undefined,
        insertMany: undefined,
        countKeys: undefined,
        recordUsage: undefined,
        recordOutcomes: undefined,
        readUsage: undefined,
        claimIdempotency: undefined,
        completeIdempotency: undefined,
        releaseIdempotency: undefined,
        getOrganizationPlan: undefined,
        setOrganizationPlan: undefined,
      },
    }),
});
