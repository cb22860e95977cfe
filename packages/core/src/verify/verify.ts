import type { ResolvedOptions } from '../config/options.js';
import { creditPolicy } from '../credits/credit-policy.js';
import type { TokenHasher } from '../format/hash.js';
import { tokenType } from '../format/key-format.js';
import { createHashers } from '../format/pepper.js';
import { compileKeyPolicy } from '../policies/key-policy.js';
import { effectiveLimits } from '../policies/plans.js';
import type { CreditPolicy } from '../shared/credit-types.js';
import type {
  KeyLimit,
  KeyType,
  StoredKey,
  VerifiedKey,
  VerifyFailureCode,
  VerifyRequirements,
  VerifyResult,
} from '../shared/types.js';
import { outcomeIndex } from '../usage/usage-outcomes.js';
import { type CachedKey, VerifyCache } from './cache.js';
import { createKeyLookup } from './key-lookup.js';

/**
 * How a verification is counted in usage (docs/reference.md §9). `'refusals'`: the caller decides the final outcome
 * of a key that `verify` admits (e.g. middleware checking IP, origin and limits next) and reports it with
 * `Keyward.recordOutcome`; `verify` counts only the refusals it answers itself.
 */
export interface VerifyOptions {
  /** `'none'`: nothing is counted (a caller that may verify the same request again). @default 'all' */
  count?: 'all' | 'refusals' | 'none';
}

/** One frozen answer per refusal code: refusals allocate nothing. */
const FAILURES = Object.freeze(
  Object.fromEntries(
    (
      [
        'missing_api_key',
        'invalid_api_key',
        'expired_api_key',
        'disabled_api_key',
        'secret_key_required',
        'key_store_unavailable',
      ] as const
    ).map((code) => [code, Object.freeze({ valid: false as const, code })]),
  ),
) as Readonly<Record<VerifyOwnFailure, VerifyResult>>;

/** The refusals `verify` answers itself (the policy refusals of docs/reference.md §6 are the middleware's). */
type VerifyOwnFailure = Exclude<
  VerifyFailureCode,
  | 'insufficient_scope'
  | 'ip_not_allowed'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'credits_exhausted'
  | 'too_many_invalid_keys'
>;

const REFUSED = FAILURES as Readonly<Record<VerifyOwnFailure, VerifyResult & { valid: false }>>;

const NO_REQUIREMENTS: VerifyRequirements = Object.freeze({});

/**
 * Verifies tokens: format and checksum first, then the cache, then one store lookup by hash. A cache hit
 * is answered synchronously (`verifyCached`) and, for a key that is not rolled, with one frozen result
 * object shared by every request: nothing is allocated but the cache entry id (a digest).
 */
export class Verifier {
  readonly #options: ResolvedOptions;
  readonly #find: (token: string, legacy: boolean) => Promise<StoredKey | null>;
  readonly #cache: VerifyCache | null;
  readonly #inflight = new Map<string, Promise<CachedKey | null>>();
  readonly #onValid: (id: string, hash: string, key: VerifiedKey, rolled: boolean) => number;
  readonly #count: (id: string, organizationId: string, outcome: number) => void;
  /**
   * Settled promises of the shared, frozen answers: `verify` hands out the same settled promise for the same
   * answer (a settled promise cannot change), so a cache hit or a refusal allocates no promise either.
   */
  readonly #settled = new WeakMap<VerifyResult, Promise<VerifyResult>>();

  /**
   * `onValid` notes a use (of a rolled key too: `rolled`) and returns when the key's last use was last
   * recorded (ms).
   */
  constructor(
    options: ResolvedOptions,
    hash: TokenHasher,
    onValid: (id: string, hash: string, key: VerifiedKey, rolled: boolean) => number,
    count: (id: string, organizationId: string, outcome: number) => void = () => {},
  ) {
    this.#count = count;
    this.#options = options;
    // The current hash is `hash`; older peppers (and plain SHA-256 for imports) only on a miss.
    const { previous, digest } = createHashers({
      current: options.pepper,
      previous: options.previousPeppers,
    });
    this.#find = createKeyLookup(options.store, {
      current: hash,
      fallbacks: previous,
      legacyFallbacks: digest ? [digest] : [],
    });
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

  /** The answer when it needs no store read (no token, malformed, cached key or cached miss); else `undefined`. */
  verifyCached(
    token: unknown,
    requirements: VerifyRequirements = NO_REQUIREMENTS,
    options?: VerifyOptions,
  ): VerifyResult | undefined {
    if (token === undefined || token === null || token === '') return FAILURES.missing_api_key;
    const type = tokenType(token, this.#options.prefix);
    // Outside Keyward's format: refused without a lookup, unless `legacyTokens` accepts it (imports).
    if (type === null && !(typeof token === 'string' && this.#options.legacyTokens?.(token)))
      return FAILURES.invalid_api_key;
    const cache = this.#cache;
    if (cache === null) return undefined;
    const now = this.#options.clock();
    const key = cache.get(cache.entryIdFor(token as string), now);
    if (key === undefined) return undefined;
    return this.#judge(key, type, requirements, now, options?.count);
  }

  verify(
    token: unknown,
    requirements: VerifyRequirements = NO_REQUIREMENTS,
    options?: VerifyOptions,
  ): Promise<VerifyResult> {
    const cached = this.verifyCached(token, requirements, options);
    if (cached !== undefined) return this.#settled.get(cached) ?? this.#settle(cached);
    return this.#verifyFromStore(token as string, requirements, options?.count);
  }

  #settle(result: VerifyResult): Promise<VerifyResult> {
    const promise = Promise.resolve(result);
    // Only frozen answers are shared; a per-request one (insufficient_scope, a rolled key) is not kept.
    if (Object.isFrozen(result)) this.#settled.set(result, promise);
    return promise;
  }

  async #verifyFromStore(
    token: string,
    requirements: VerifyRequirements,
    count: VerifyOptions['count'],
  ): Promise<VerifyResult> {
    let key: CachedKey | null;
    try {
      key = await this.#lookup(token);
    } catch {
      return FAILURES.key_store_unavailable;
    }
    return this.#judge(
      key,
      tokenType(token, this.#options.prefix),
      requirements,
      this.#options.clock(),
      count,
    );
  }

  /**
   * Contract §2's answer for a looked-up key, in the order deleted, expired, disabled, type, scopes. `type`
   * is the token's kind, or `null` for a token outside Keyward's format (only an imported key matches it).
   */
  #judge(
    key: CachedKey | null,
    type: KeyType | null,
    requirements: VerifyRequirements,
    now: number,
    count: VerifyOptions['count'] = 'all',
  ): VerifyResult {
    if (key === null || key.deleted || (type === null ? !key.legacy : key.verified.type !== type))
      return FAILURES.invalid_api_key;
    const refused = this.#refusal(key, requirements, now);
    if (refused !== null) {
      // Usage (docs/reference.md §9): a refusal of an existing key is counted under its code.
      if (count !== 'none')
        this.#count(key.verified.id, key.verified.organizationId, outcomeIndex(refused.code));
      return refused;
    }
    const { expiresAt } = key;
    if (count === 'all') this.#count(key.verified.id, key.verified.organizationId, 0);
    // Last use is noted at most once per interval per cached entry; the recorder batches the writes.
    if (now - key.touchedAt >= this.#options.usage.intervalMs)
      key.touchedAt = this.#onValid(key.verified.id, key.hash, key.verified, key.rolledAt !== null);
    if (key.rolledAt === null || expiresAt === null) return key.admitted;
    return {
      valid: true,
      key: key.verified,
      sunsetAt: new Date(expiresAt),
      deprecatedAt: new Date(key.rolledAt),
      policy: key.policy,
    };
  }

  /** The refusal of an existing key in the documented order (expired, disabled, type, scopes), or `null`. */
  #refusal(
    key: CachedKey,
    requirements: VerifyRequirements,
    now: number,
  ): (VerifyResult & { valid: false }) | null {
    const { expiresAt } = key;
    if (expiresAt !== null && now >= expiresAt) return REFUSED.expired_api_key;
    if (key.disabled) return REFUSED.disabled_api_key;
    if (requirements.type === 'secret' && key.verified.type !== 'secret') return REFUSED.secret_key_required;
    const required = requirements.scopes;
    if (required !== undefined) {
      for (let i = 0; i < required.length; i++) {
        if (!key.verified.scopes.includes(required[i] as string)) {
          return { valid: false, code: 'insufficient_scope', required: [...required] };
        }
      }
    }
    return null;
  }

  async #lookup(token: string): Promise<CachedKey | null> {
    const cache = this.#cache;
    if (!cache) return this.#load(token);
    const entryId = cache.entryIdFor(token);
    const pending = this.#inflight.get(entryId);
    if (pending) return pending;
    const generation = cache.generation;
    const load = this.#load(token).then((key) => {
      cache.set(entryId, key, generation);
      return key;
    });
    this.#inflight.set(entryId, load);
    try {
      return await load;
    } finally {
      // Only our own entry: after an invalidation the entry id may hold a newer lookup.
      if (this.#inflight.get(entryId) === load) this.#inflight.delete(entryId);
    }
  }

  async #load(token: string): Promise<CachedKey | null> {
    const stored = await this.#find(token, tokenType(token, this.#options.prefix) === null);
    if (!stored) return null;
    // Limits as held now: the key's own, else its plan's, else its organization's plan's (docs/reference.md §10).
    const { plans, store } = this.#options;
    let limits = stored.limits;
    let planned: readonly KeyLimit[] = [];
    let credits: CreditPolicy | null = creditPolicy(stored, null, null);
    if (plans.size > 0) {
      const organizationPlan =
        stored.plan == null && store.getOrganizationPlan
          ? await store.getOrganizationPlan(stored.organizationId)
          : null;
      limits = [...effectiveLimits(stored, plans, organizationPlan)];
      // Credits: the key's own, else its plan's (docs/reference.md §10).
      const planName = stored.plan ?? organizationPlan;
      planned = (planName != null && plans.get(planName)?.limits) || [];
      if (!stored.credits && planName != null) {
        credits = creditPolicy(stored, plans.get(planName)?.credits ?? null, planName);
      }
    }
    // Scopes as held now (catalog, public ceiling), computed once per load rather than per request.
    return toCached(
      { ...stored, limits },
      this.#options.scopes.effective(stored.scopes, stored.type),
      credits,
      planned,
    );
  }
}

function toCached(
  key: StoredKey,
  scopes: string[],
  credits: CreditPolicy | null,
  planned: readonly KeyLimit[],
): CachedKey {
  const frozenScopes = Object.freeze(scopes);
  // Frozen, so a handler changing req.apiKey (or its scopes) cannot change what later requests see.
  const verified = Object.freeze({
    id: key.id,
    organizationId: key.organizationId,
    name: key.name,
    type: key.type,
    scopes: frozenScopes as string[],
    meta: key.meta ? deepFreeze(structuredClone(key.meta)) : null,
  });
  const policy = compileKeyPolicy(key, credits, planned);
  return {
    verified,
    admitted: Object.freeze({
      valid: true as const,
      key: verified,
      sunsetAt: null,
      deprecatedAt: null,
      policy,
    }),
    policy,
    hash: key.hash,
    expiresAt: key.expiresAt?.getTime() ?? null,
    disabled: key.disabled,
    rolledAt: key.rolledAt?.getTime() ?? null,
    deleted: key.deletedAt !== null,
    legacy: key.legacy === true,
    touchedAt: Number.NEGATIVE_INFINITY,
  };
}

/** Freezes a JSON value and everything in it: one `meta` object is shared by every request of a key. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
