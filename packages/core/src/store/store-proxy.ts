import type { KeyStore } from './store.js';

/** How `proxyStore` changes a store. */
export interface StoreProxyOptions {
  /** Methods that replace the store's; a name given as `undefined` hides that method (a store without it). */
  overrides?: Partial<KeyStore>;
  /** Runs every call of one of the store's own methods (not of `overrides`): `call()` makes the call. */
  around?: (method: string, args: unknown[], call: () => unknown) => unknown;
}

/**
 * `inner` seen through a `Proxy`: every member of it, optional methods included, passes through (methods
 * bound to `inner`, through `around` when given) unless `overrides` names it. Wrappers built on it never
 * drop a method the store has, however many the `KeyStore` contract gains.
 *
 * @example
 * const noUsage = proxyStore(store, { overrides: { recordUsage: undefined } });
 * const logged = proxyStore(store, { around: (method, args, call) => (console.log(method), call()) });
 */
export function proxyStore(inner: KeyStore, { overrides = {}, around }: StoreProxyOptions = {}): KeyStore {
  return new Proxy(inner, {
    get(target, name) {
      if (Object.hasOwn(overrides, name)) return overrides[name as keyof KeyStore];
      const value: unknown = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!around) return method.bind(target);
      return (...args: unknown[]) => around(String(name), args, () => method.apply(target, args));
    },
    has(target, name) {
      if (Object.hasOwn(overrides, name)) return overrides[name as keyof KeyStore] !== undefined;
      return Reflect.has(target, name);
    },
  });
}
