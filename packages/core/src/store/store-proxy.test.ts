import { describe, expect, it } from 'vitest';
import { delegatingStore, makeStoredKey, withLatency } from '../testing/index.js';
import { MemoryKeyStore } from './memory-store.js';
import type { KeyStore } from './store.js';
import { proxyStore } from './store-proxy.js';

/** The method names of the memory store, which implements every optional method of the contract. */
function methodsOf(store: KeyStore): string[] {
  return Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter(
    (name) =>
      name !== 'constructor' && typeof (store as unknown as Record<string, unknown>)[name] === 'function',
  );
}

describe('proxyStore', () => {
  it('passes every method through, optional ones included, and wrappers built on it keep them all', () => {
    const inner = new MemoryKeyStore();
    const methods = methodsOf(inner);
    expect(methods).toEqual(expect.arrayContaining(['countKeys', 'claimIdempotency', 'setOrganizationPlan']));
    for (const store of [proxyStore(inner), delegatingStore(inner), withLatency(inner, { ms: 0 })]) {
      const missing = methods.filter(
        (m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function',
      );
      expect(missing).toEqual([]);
    }
  });

  it('hides a method overridden with undefined and uses the other overrides', async () => {
    const inner = new MemoryKeyStore();
    const store = proxyStore(inner, { overrides: { recordUsage: undefined, findByHash: async () => null } });
    expect(store.recordUsage).toBeUndefined();
    expect('recordUsage' in store).toBe(false);
    expect('countKeys' in store).toBe(true);
    const key = makeStoredKey();
    await store.insert(key);
    expect(await store.findByHash(key.hash)).toBeNull();
    expect(await inner.findByHash(key.hash)).toEqual(key);
  });

  it('runs every call of the store through around, with its method name and arguments', async () => {
    const calls: string[] = [];
    const store = proxyStore(new MemoryKeyStore(), {
      around: (method, args, call) => {
        calls.push(`${method}(${args.length})`);
        return call();
      },
    });
    const key = makeStoredKey();
    await store.insert(key);
    expect(await store.countKeys?.(key.organizationId)).toBe(1);
    expect(calls).toEqual(['insert(1)', 'countKeys(1)']);
  });
});
