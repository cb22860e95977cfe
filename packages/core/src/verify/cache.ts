import { hash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ResolvedCacheOptions } from '../config/options.js';
import type { Clock, KeyPolicy, VerifiedKey, VerifyResult } from '../shared/types.js';

/** What verify needs to know about a key; never the token. */
export interface CachedKey {
  /**
   * What `req.apiKey` gets (`id`, `organizationId`, `name`, `type`, `scopes` as held now), frozen with frozen
   * scopes, so one object serves every request safely.
   */
  verified: Readonly<VerifiedKey>;
  /** The whole answer for a key that is not rolled, frozen and shared. */
  admitted: VerifyResult;
  /** The key's limits, origins and addresses, compiled once; `null` when it has none. */
  policy: KeyPolicy | null;
  /** The stored hash, for last-use writes (a cache value, never a cache key). */
  hash: string;
  expiresAt: number | null;
  disabled: boolean;
  rolledAt: number | null;
  deleted: boolean;
  /** An imported key: the only kind a token outside Keyward's format may match. */
  legacy: boolean;
  /** When this entry last reported a use to the last-use recorder (ms). */
  touchedAt: number;
}

/**
 * After another instance announces a change, how long answers read from the store are cached at most, in
 * ms: the announcement may come before the write lands (stores announce first so that no change goes
 * unannounced), so an answer read in between must not live long.
 */
export const SETTLE_MS = 1_000;

/** A known key's cache entry: the key and when the entry goes stale (ms). */
interface KnownEntry {
  key: CachedKey;
  staleAt: number;
}

/**
 * The verify cache: LRUs keyed by a digest of the token under a per-instance random secret, so neither the
 * token nor its stored hash is ever a cache key. Known keys and unknown tokens live in separate LRUs.
 * Entries never outlive the key's `expiresAt`. Each entry carries the time it goes stale, checked against
 * the caller's `now`: one clock read per verify serves the cache and the key's expiry alike.
 */
export class VerifyCache {
  readonly #known: LRUCache<string, KnownEntry>;
  /** Unknown tokens' entry ids, each with the time its "no such key" goes stale (ms). */
  readonly #unknown: LRUCache<string, number>;
  readonly #entryIdById = new Map<string, string>();
  /** Keys another instance announced a change of, with the time until which answers are kept short. */
  readonly #settling = new Map<string, number>();
  /**
   * 64 random bits: enough that an entry id is never the stored hash nor computable without it, and short
   * enough that salt and a `kw` token (55 bytes) fit SHA-256's one block.
   */
  readonly #secret = randomBytes(8).toString('base64url');
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  #generation = 0;

  constructor(options: ResolvedCacheOptions, clock: Clock) {
    this.#clock = clock;
    this.#ttl = options.ttlMs;
    this.#negativeTtl = Math.min(options.negativeTtlMs, options.ttlMs);
    this.#known = new LRUCache<string, KnownEntry>({
      max: options.max,
      dispose: (entry, entryId) => {
        if (this.#entryIdById.get(entry.key.verified.id) === entryId)
          this.#entryIdById.delete(entry.key.verified.id);
      },
    });
    this.#unknown = new LRUCache<string, number>({ max: options.negativeMax });
  }

  /**
   * The cache entry id of a token (not to be confused with a stored key's claim `slot`): one SHA-256 of the
   * instance secret and the token, its 32 bytes as a 32-character string (`binary`, i.e. latin1: the
   * cheapest string to make and to hash as a `Map` key; an entry id is never printed).
   */
  entryIdFor(token: string): string {
    return hash('sha256', this.#secret + token, 'binary');
  }

  /** The cached key, `null` for a cached miss, `undefined` when nothing (fresh at `now`) is cached. */
  get(entryId: string, now: number): CachedKey | null | undefined {
    const known = this.#known.get(entryId);
    if (known !== undefined) {
      if (now < known.staleAt) return known.key;
      this.#known.delete(entryId);
    }
    const unknownUntil = this.#unknown.get(entryId);
    if (unknownUntil === undefined) return undefined;
    if (now < unknownUntil) return null;
    this.#unknown.delete(entryId);
    return undefined;
  }

  /** A number that changes on every invalidation; `set` ignores answers read before the last change. */
  get generation(): number {
    return this.#generation;
  }

  set(entryId: string, key: CachedKey | null, readAtGeneration: number): void {
    if (readAtGeneration !== this.#generation) return;
    const now = this.#clock();
    if (key === null) {
      this.#unknown.set(entryId, now + this.#negativeTtl);
      return;
    }
    const untilExpiry = key.expiresAt === null ? Number.POSITIVE_INFINITY : key.expiresAt - now;
    const settling = this.#settling.get(key.verified.id);
    const untilSettled = settling !== undefined && settling > now ? settling - now : Number.POSITIVE_INFINITY;
    // An expired key's answer cannot change without a write (which invalidates): keep it briefly.
    const ttl = untilExpiry > 0 ? Math.min(this.#ttl, untilExpiry, untilSettled) : Math.min(1_000, this.#ttl);
    this.#known.set(entryId, { key, staleAt: now + ttl });
    this.#entryIdById.set(key.verified.id, entryId);
  }

  /**
   * Drops the key with this id, if cached. The one path every change goes through. `remote`: the change was
   * announced by another instance and may not have landed yet, so answers are kept short for a while.
   */
  invalidate(id: string, { remote = false }: { remote?: boolean } = {}): void {
    this.#generation++;
    const entryId = this.#entryIdById.get(id);
    if (entryId !== undefined) this.#known.delete(entryId);
    if (remote) {
      const now = this.#clock();
      this.#settling.set(id, now + SETTLE_MS);
      if (this.#settling.size > 1_000) {
        for (const [settlingId, until] of this.#settling) if (until <= now) this.#settling.delete(settlingId);
      }
    }
  }

  clear(): void {
    this.#generation++;
    this.#known.clear();
    this.#unknown.clear();
    this.#entryIdById.clear();
  }
}
