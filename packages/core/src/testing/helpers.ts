import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyEvent } from '../events/events.js';
import { createTokenHasher } from '../format/hash.js';
import { newKeyId } from '../format/ids.js';
import { generateToken, redactToken } from '../format/key-format.js';
import { newStoredKey } from '../lifecycle/stored-key.js';
import type { KeyType, StoredKey } from '../shared/types.js';
import type { EventStoreOptions } from '../store/event-log.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyChanges, KeyStore, UpdateOptions } from '../store/store.js';
import { proxyStore } from '../store/store-proxy.js';

export interface ConformanceOptions {
  /** A fresh, empty store for one test. */
  createStore: () => Promise<KeyStore> | KeyStore;
  /** A fresh store built with event options: when given, the events conformance suite runs too. */
  createEventStore?: (options: EventStoreOptions) => Promise<KeyStore> | KeyStore;
  /** Called after each test with the store it used. */
  destroyStore?: (store: KeyStore) => Promise<void> | void;
}

const hash = createTokenHasher();

/**
 * A stored key with fresh id, token and hash; fields can be overridden.
 *
 * @example
 * await store.insert(makeStoredKey({ organizationId: 'org_1' }));
 */
export function makeStoredKey(fields: Partial<StoredKey> = {}): StoredKey {
  const type: KeyType = fields.type ?? 'secret';
  const token = generateToken('kw', type);
  const id = fields.id ?? newKeyId();
  const at = new Date(Math.floor(Date.now() / 1000) * 1000);
  const key = newStoredKey({
    id,
    organizationId: 'org_conformance',
    name: 'Key',
    type,
    scopes: ['a:read'],
    hash: hash(token),
    token: type === 'public' ? token : null,
    redactedKey: redactToken(token),
    createdAt: at,
    expiresAt: null,
  });
  return { ...key, ...fields };
}

/**
 * A pepper for tests (never use a published pepper in production).
 *
 * @example
 * createKeyward({ store, scopes, pepper: TEST_PEPPER });
 */
export const TEST_PEPPER = 'keyward-test-pepper-not-secret';

/**
 * A controllable clock for `createKeyward({ clock })`, starting at 2030-01-01T00:00:00Z.
 *
 * @example
 * const clock = testClock();
 * const keyward = createKeyward({ store, scopes, clock: clock.now });
 * clock.advance(60_000);
 */
export function testClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    set: (ms: number) => {
      now = ms;
    },
  };
}

/**
 * A real `MemoryKeyStore` behind a switch: `state.fail = true` makes `findByHash` fail as an unreachable
 * database would; `state.lookups` counts `findByHash` calls.
 *
 * @example
 * const { store, state } = switchableStore();
 * state.fail = true; // verify now answers key_store_unavailable for uncached keys
 */
export function switchableStore(inner: MemoryKeyStore = new MemoryKeyStore()) {
  const state = { fail: false, lookups: 0 };
  const store = delegatingStore(inner, {
    findByHash: async (h) => {
      state.lookups++;
      if (state.fail) throw new Error('connect ECONNREFUSED 127.0.0.1:27017');
      return inner.findByHash(h);
    },
  });
  return { store, state };
}

/**
 * A `KeyStore` that forwards every call, with all its arguments, to `inner`, except the methods given in
 * `overrides`: the base of test stores that fail, wait or count.
 *
 * @example
 * const failing = delegatingStore(new MemoryKeyStore(), { findByHash: async () => { throw new Error('down'); } });
 */
export function delegatingStore(inner: KeyStore, overrides: Partial<KeyStore> = {}): KeyStore {
  return proxyStore(inner, { overrides });
}

/**
 * `store` with every call delayed by about `ms` (half before the call, half after, each jittered by ±50%),
 * as a remote database would: concurrent service calls then interleave their reads and writes.
 * `onWrite` sees every write that happened, with the version it produced.
 *
 * @example
 * const keyward = createKeyward({ store: withLatency(new MemoryKeyStore(), { ms: 20 }), scopes, pepper });
 */
export function withLatency(
  inner: KeyStore,
  {
    ms = 20,
    onWrite,
    random = Math.random,
  }: {
    ms?: number;
    /** Each insert (`changes` = `{}`, `after` = the key), update and re-hash that happened, with its event. */
    onWrite?: (id: string, changes: KeyChanges, after: StoredKey, event?: KeyEvent) => void;
    /** Source of the jitter (a seeded one makes a run replayable). @default Math.random */
    random?: () => number;
  } = {},
): KeyStore {
  const pause = () => sleep((ms / 2) * (0.5 + random()));
  return proxyStore(inner, {
    around(method, args, call) {
      // `subscribe` answers at once (its unsubscribe function); every other method is a store round trip.
      if (method === 'subscribe') return call();
      return (async () => {
        await pause();
        const result = await call();
        if (onWrite) reportWrites(method, args, result, onWrite);
        await pause();
        return result;
      })();
    },
  });
}

/** Hands `onWrite` the writes that happened in one call of `method` (see `withLatency`). */
function reportWrites(
  method: string,
  args: unknown[],
  result: unknown,
  onWrite: (id: string, changes: KeyChanges, after: StoredKey, event?: KeyEvent) => void,
): void {
  if (method === 'insert') {
    const [key, event] = args as [StoredKey, KeyEvent | undefined];
    onWrite(key.id, {}, key, event);
  } else if (method === 'insertMany') {
    const [keys, events] = args as [StoredKey[], Array<KeyEvent | undefined> | undefined];
    (result as unknown[]).forEach((duplicate, i) => {
      const key = keys[i] as StoredKey;
      if (duplicate === null) onWrite(key.id, {}, key, events?.[i]);
    });
  } else if (method === 'update' && result) {
    const [, id, changes, options] = args as [string, string, KeyChanges, UpdateOptions | undefined];
    onWrite(id, changes, result as StoredKey, options?.event);
    if (options?.successor) onWrite(options.successor.id, {}, options.successor, options.successorEvent);
  } else if (method === 'rehash' && result) {
    const [key, hash] = args as [StoredKey, string];
    onWrite(key.id, { hash } as KeyChanges, result as StoredKey);
  }
}

/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same sequence.
 *
 * @example
 * const random = seededRandom(42); random(); // 0.6011037519201636
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
