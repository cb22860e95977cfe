import { createHmac, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock, KeyType } from './types.js';

/** What verify needs to know about a key; never the token. */
export interface CachedKey {
  id: string;
  /** The stored hash, for last-use writes (a cache value, never a cache key). */
  hash: string;
  organizationId: string;
  name: string;
  type: KeyType;
  scopes: string[];
  expiresAt: number | null;
  disabled: boolean;
  rolledAt: number | null;
  deleted: boolean;
}

export interface VerifyCacheOptions {
  /** Most entries kept. @default 10000 */
  max?: number;
  /** Time to live of an entry for a known key, in ms. @default 60000 (1000 when the store has no change feed) */
  ttl?: number;
  /** Time to live of a "no such key" entry, in ms. @default 5000 (capped at `ttl`) */
  negativeTtl?: number;
}

const UNKNOWN = Symbol('unknown key');
type Entry = CachedKey | typeof UNKNOWN;

/**
 * The verify cache: an LRU keyed by `HMAC(per-instance random secret, token)`, so neither the token
 * nor its stored hash is ever a cache key. Entries never outlive the key's `expiresAt`.
 */
export class VerifyCache {
  readonly #lru: LRUCache<string, Entry>;
  readonly #slotById = new Map<string, string>();
  readonly #secret = randomBytes(32);
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  #generation = 0;

  constructor(options: Required<VerifyCacheOptions>, clock: Clock) {
    this.#clock = clock;
    this.#ttl = options.ttl;
    this.#negativeTtl = Math.min(options.negativeTtl, options.ttl);
    this.#lru = new LRUCache<string, Entry>({
      max: options.max,
      ttl: options.ttl,
      ttlResolution: 0,
      perf: { now: clock },
      dispose: (entry, slot) => {
        if (entry !== UNKNOWN && this.#slotById.get(entry.id) === slot) this.#slotById.delete(entry.id);
      },
    });
  }

  /** The cache slot of a token. */
  slotFor(token: string): string {
    return createHmac('sha256', this.#secret).update(token, 'utf8').digest('base64url');
  }

  /** The cached key, `null` for a cached miss, `undefined` when nothing is cached. */
  get(slot: string): CachedKey | null | undefined {
    const entry = this.#lru.get(slot);
    return entry === UNKNOWN ? null : entry;
  }

  /** A number that changes on every invalidation; `set` ignores answers read before the last change. */
  get generation(): number {
    return this.#generation;
  }

  set(slot: string, key: CachedKey | null, readAtGeneration: number): void {
    if (readAtGeneration !== this.#generation) return;
    if (key === null) {
      this.#lru.set(slot, UNKNOWN, { ttl: this.#negativeTtl });
      return;
    }
    const untilExpiry = key.expiresAt === null ? Number.POSITIVE_INFINITY : key.expiresAt - this.#clock();
    // An expired key's answer cannot change without a write (which invalidates): keep it briefly.
    const ttl = untilExpiry > 0 ? Math.min(this.#ttl, untilExpiry) : this.#negativeTtl;
    this.#lru.set(slot, key, { ttl });
    this.#slotById.set(key.id, slot);
  }

  /** Drops the key with this id, if cached. The one path every change goes through. */
  invalidate(id: string): void {
    this.#generation++;
    const slot = this.#slotById.get(id);
    if (slot !== undefined) this.#lru.delete(slot);
  }

  clear(): void {
    this.#generation++;
    this.#lru.clear();
    this.#slotById.clear();
  }
}
