import { type CachedKey, VerifyCache } from './cache.js';
import { safeEqual, type TokenHasher } from './hash.js';
import { parseToken } from './key-format.js';
import type { ResolvedOptions } from './options.js';
import { statusAt } from './status.js';
import { storeCall } from './store-call.js';
import type { StoredKey, VerifyFailureCode, VerifyRequirements, VerifyResult } from './types.js';

const FAILURE_BY_STATUS = { expired: 'expired_api_key', disabled: 'disabled_api_key' } as const;

/** Verifies tokens: format and checksum first, then the cache, then one store lookup by hash. */
export class Verifier {
  readonly #options: ResolvedOptions;
  readonly #hash: TokenHasher;
  readonly #cache: VerifyCache | null;
  readonly #inflight = new Map<string, Promise<CachedKey | null>>();
  readonly #onValid: (id: string, hash: string) => void;

  constructor(options: ResolvedOptions, hash: TokenHasher, onValid: (id: string, hash: string) => void) {
    this.#options = options;
    this.#hash = hash;
    this.#onValid = onValid;
    this.#cache = options.cache ? new VerifyCache(options.cache, options.clock) : null;
  }

  /**
   * Forgets the key with this id; every mutation, local or remote, ends here. Lookups already under way
   * are retired too: they keep serving the callers that started before the change, but a verify that starts
   * after it reads the store again.
   */
  invalidate(id: string, options?: { remote?: boolean }): void {
    this.#cache?.invalidate(id, options);
    this.#inflight.clear();
  }

  clear(): void {
    this.#cache?.clear();
    this.#inflight.clear();
  }

  async verify(token: unknown, requirements: VerifyRequirements = {}): Promise<VerifyResult> {
    if (token === undefined || token === null || token === '') return fail('missing_api_key');
    const parsed = parseToken(token, this.#options.prefix);
    if (!parsed) return fail('invalid_api_key');
    let key: CachedKey | null;
    try {
      key = await this.#lookup(token as string);
    } catch {
      return fail('key_store_unavailable');
    }
    if (!key || key.deleted || key.type !== parsed.type) return fail('invalid_api_key');
    const now = this.#options.clock();
    const status = statusAt(key.expiresAt, key.disabled, key.rolledAt !== null, now);
    if (status === 'expired' || status === 'disabled') return fail(FAILURE_BY_STATUS[status]);
    if (requirements.type === 'secret' && key.type !== 'secret') return fail('secret_key_required');
    const { scopes } = key;
    const required = requirements.scopes ?? [];
    if (!required.every((s) => scopes.includes(s)))
      return { valid: false, code: 'insufficient_scope', required: [...required] };
    this.#onValid(key.id, key.hash);
    return {
      valid: true,
      // A copy: a handler changing req.apiKey.scopes must not change the cached key.
      key: {
        id: key.id,
        organizationId: key.organizationId,
        name: key.name,
        type: key.type,
        scopes: [...scopes],
      },
      sunsetAt: status === 'rolled' && key.expiresAt !== null ? new Date(key.expiresAt) : null,
    };
  }

  async #lookup(token: string): Promise<CachedKey | null> {
    const cache = this.#cache;
    if (!cache) return this.#load(token);
    const slot = cache.slotFor(token);
    const hit = cache.get(slot);
    if (hit !== undefined) return hit;
    const pending = this.#inflight.get(slot);
    if (pending) return pending;
    const generation = cache.generation;
    const load = this.#load(token).then((key) => {
      cache.set(slot, key, generation);
      return key;
    });
    this.#inflight.set(slot, load);
    try {
      return await load;
    } finally {
      // Only our own entry: after an invalidation the slot may hold a newer lookup.
      if (this.#inflight.get(slot) === load) this.#inflight.delete(slot);
    }
  }

  async #load(token: string): Promise<CachedKey | null> {
    const hash = this.#hash(token);
    const stored = await storeCall('findByHash', () => this.#options.store.findByHash(hash));
    if (!stored || !safeEqual(stored.hash, hash)) return null;
    // Scopes as held now (catalog, public ceiling), computed once per load rather than per request.
    return { ...toCached(stored), scopes: this.#options.scopes.effective(stored.scopes, stored.type) };
  }
}

function fail(code: VerifyFailureCode): VerifyResult {
  return { valid: false, code };
}

function toCached(key: StoredKey): CachedKey {
  return {
    id: key.id,
    hash: key.hash,
    organizationId: key.organizationId,
    name: key.name,
    type: key.type,
    scopes: [...key.scopes],
    expiresAt: key.expiresAt?.getTime() ?? null,
    disabled: key.disabled,
    rolledAt: key.rolledAt?.getTime() ?? null,
    deleted: key.deletedAt !== null,
  };
}
