import { safeEqual, type TokenHasher } from '../format/hash.js';
import { log } from '../shared/logger.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';

/** The hashers of a lookup: the current hash first, then the older ones tried on a miss. */
export interface LookupHashers {
  current: TokenHasher;
  /** Tried on a miss for every token: the previous peppers' hashes, newest first. */
  fallbacks: readonly TokenHasher[];
  /** Tried last, on a miss, for tokens outside Keyward's format only: plain SHA-256 (imports by digest). */
  legacyFallbacks?: readonly TokenHasher[];
}

/**
 * Finds the stored key of a token: one read by the current hash; only on a miss, one read per older hash
 * (previous peppers; then, for a token outside Keyward's format, plain SHA-256 for imports by digest), and,
 * when they all miss, the current hash once more (a concurrent move may have landed in between).
 * A Keyward-format token that is unknown thus costs one read unless a pepper is being rotated. A key found under an older hash is moved to
 * the current one (`store.rehash`) before it is returned, so its next lookup is one read again and the
 * older hash leaves the store. A failed or lost move never fails the lookup: the key is answered as found
 * (or, when it changed meanwhile, as read again). Hashes never reach a log line.
 *
 * @example
 * const find = createKeyLookup(store, createHashers(resolvePeppers([newPepper, oldPepper])));
 * const key = await find(token, false); // StoredKey with the current hash, or null
 */
export function createKeyLookup(
  store: KeyStore,
  hashers: LookupHashers,
): (token: string, legacy: boolean) => Promise<StoredKey | null> {
  const byHash = async (hash: string): Promise<StoredKey | null> => {
    const stored = await storeCall('findByHash', () => store.findByHash(hash));
    return stored && safeEqual(stored.hash, hash) ? stored : null;
  };
  const legacyFallbacks = [...hashers.fallbacks, ...(hashers.legacyFallbacks ?? [])];
  return async (token, legacy) => {
    const hash = hashers.current(token);
    const found = await byHash(hash);
    const fallbacks = legacy ? legacyFallbacks : hashers.fallbacks;
    if (found || fallbacks.length === 0) return found;
    for (const older of fallbacks) {
      const oldHash = older(token);
      const stored = await byHash(oldHash);
      if (stored) return upgrade(store, stored, hash, byHash);
    }
    // Another request (here or on another instance) may have moved the key to the current hash between the
    // first read and the older ones: look once more where a move puts it, or a valid key would be refused.
    return store.rehash ? byHash(hash) : null;
  };
}

async function upgrade(
  store: KeyStore,
  stored: StoredKey,
  hash: string,
  byHash: (hash: string) => Promise<StoredKey | null>,
): Promise<StoredKey | null> {
  // A deleted key stays where it is: nothing to gain, and it must keep being refused.
  if (!store.rehash || stored.deletedAt !== null) return stored;
  let moved: StoredKey | null;
  try {
    moved = await store.rehash(stored, hash);
  } catch (error) {
    log('re-hashing key %s failed (%s); answered as found', stored.id, (error as Error)?.name ?? 'error');
    return stored;
  }
  if (moved) {
    log('key %s re-hashed with the current pepper', stored.id);
    return moved;
  }
  // Changed, moved or deleted meanwhile (another instance, a PATCH): answer what the store holds now. A
  // concurrent move may be between its steps (neither hash answers for a moment): look a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = (await byHash(hash)) ?? (await byHash(stored.hash));
    if (now) return now;
  }
  return null;
}
