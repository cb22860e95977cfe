import type { EventsOptions } from '../background/event-hooks.js';
import type { UsageOptions } from '../background/usage.js';
import type { CreditMeterSettings } from '../credits/credit-meter.js';
import { type CreditOptions, resolveCreditOptions } from '../credits/credit-options.js';
import type { KeyEvent } from '../events/events.js';
import { DEFAULT_PREFIX, isValidPrefix } from '../format/key-format.js';
import { type LegacyTokensOptions, type LegacyTokenTest, legacyTokenTest } from '../format/legacy.js';
import { type Pepper, type PepperOption, resolvePeppers } from '../format/pepper.js';
import {
  type DormantAfterDaysOption,
  type ResolvedDormancy,
  resolveDormancy,
  resolveSweepInterval,
} from '../lifecycle/dormancy.js';
import { resolveKeyCap } from '../lifecycle/key-cap.js';
import { type LifetimeOptions, type ResolvedLifetime, resolveLifetime } from '../lifecycle/lifetime.js';
import { type LimitOptions, type ResolvedLimits, resolveLimits } from '../policies/limit-options.js';
import { type PlanDefinition, type PlansOption, resolvePlans } from '../policies/plans.js';
import { createScopePolicy, type ScopePolicy } from '../policies/scopes.js';
import { checkOptionNames } from '../shared/option-names.js';
import type { Clock } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';

export interface VerifyCacheOptions {
  /** Most entries kept. @default 10000 */
  max?: number;
  /** Time to live of an entry for a known key, in ms. @default 60000 (1000 when the store has no change feed) */
  ttlMs?: number;
  /** Time to live of a "no such key" entry, in ms. @default 5000 (capped at `ttlMs`) */
  negativeTtlMs?: number;
  /** @deprecated Use `ttlMs` (the same value, in ms). */
  ttl?: number;
  /** @deprecated Use `negativeTtlMs` (the same value, in ms). */
  negativeTtl?: number;
  /**
   * Most "no such key" entries kept, in an LRU of their own: a flood of invented tokens evicts other
   * invented tokens, never a good key. @default 1000
   */
  negativeMax?: number;
}

/** The cache options once resolved (defaults filled in, deprecated names mapped). */
export interface ResolvedCacheOptions {
  max: number;
  ttlMs: number;
  negativeTtlMs: number;
  negativeMax: number;
}

/** Options of `createKeyward`. */
export interface KeywardOptions {
  /** Where keys live, e.g. `new MemoryKeyStore()` or `new MongoKeyStore({ connection })`. */
  store: KeyStore;
  /** The app's scope catalog, e.g. `['snippets:read', 'snippets:write']`. */
  scopes: readonly string[];
  /** The scopes public keys may hold (a subset of `scopes`). @default [] */
  publicScopes?: readonly string[];
  /** Token prefix, `^[a-z][a-z0-9]{0,9}$`. @default "kw" */
  prefix?: string;
  /**
   * Secret for `HMAC-SHA-256(pepper, token)`, at least 16 characters (32 random bytes recommended; keep it
   * out of the database, e.g. in `KEYWARD_PEPPER`). Required: a database dump alone then cannot be used to
   * test guessed tokens. `false` opts into plain SHA-256 and emits a warning at start.
   *
   * To rotate it, pass `[current, ...previous]`: keys hashed with a previous pepper keep verifying and are
   * re-hashed with the current one on their next use (when the store supports `rehash`).
   */
  pepper: PepperOption;
  /**
   * Accept imported tokens outside Keyward's format (`importKey`): such a token is looked up only when it
   * matches `pattern` (and is at most 256 characters). Unset: they are refused without touching the store.
   */
  legacyTokens?: LegacyTokensOptions;
  /** The verify cache, or `false` to read the store on every verify (zero staleness). @default {} */
  cache?: VerifyCacheOptions | false;
  /** `lastUsedAt` tracking: at most one write per key per `intervalMs`, batched. @default {} */
  usage?: UsageOptions;
  /** Current time in ms; inject one in tests. @default Date.now */
  clock?: Clock;
  /** Default limits per key type and the loosest limit a customer may set (docs/reference.md §6). @default {} */
  limits?: LimitOptions;
  /**
   * Named plans (docs/reference.md §10): `{ free: { limits: [{ limit: 1000, windowSeconds: 86400, per: 'organization' }] } }`.
   * A key names one (`plan`), or its organization does (`setOrganizationPlan`); a key's own `limits`
   * tighten its plan's, never loosen them; `credits` give each key on the plan a balance. Plans live in the app's configuration: a changed definition applies to every
   * key on it as soon as the app runs with it, without rewriting keys. @default {}
   */
  plans?: PlansOption;
  /**
   * Called with every audit event (docs/reference.md §7) once its change is durable, e.g. to send mail or webhooks.
   * Not awaited by the change; a throw or rejection is logged and never fails the change. At most once per
   * event (a process that dies right after a change skips it): read `listEvents` for the complete log.
   * Events never hold a token, hash or pepper.
   */
  onEvent?: (event: KeyEvent) => void | Promise<void>;
  /** Background upkeep of the event log. @default {} */
  events?: EventsOptions;
  /** Lifetime policy per key type, in days (docs/reference.md §11). @default {} */
  lifetime?: LifetimeOptions;
  /**
   * The most keys (not deleted) one organization may have; create and import beyond it are 409 `conflict`
   * (needs the store's `countKeys`). @default 1000
   */
  maxKeysPerOrganization?: number;
  /**
   * Dormant keys (docs/reference.md §11): a key unused for this many days (counted from its last use, or
   * its creation when never used) is disabled by the service (`key.disabled`, actor `system`, reason
   * `dormant`), after `key.dormant_soon` 7 days before. One number for both types, or `{ secret?, public? }`.
   * Needs the store's `scanKeys`. @default undefined (never)
   */
  dormantAfterDays?: DormantAfterDaysOption;
  /**
   * How often this instance runs `sweepDormantKeys` (an unref'd timer, only with `dormantAfterDays`);
   * `false`: never (run it yourself, e.g. from a scheduled job). @default 3600000
   */
  dormancySweepIntervalMs?: number | false;
  /** How credits are leased from the store (docs/reference.md §10). @default {} */
  credits?: CreditOptions;
}

/**
 * Every option `createKeyward` takes; any other name is refused (`TypeError`). A record of every key of
 * `KeywardOptions`, so an option added to the type and not here fails to compile.
 */
const OPTIONS: Readonly<Record<keyof KeywardOptions, true>> = {
  store: true,
  scopes: true,
  publicScopes: true,
  prefix: true,
  pepper: true,
  legacyTokens: true,
  cache: true,
  usage: true,
  clock: true,
  limits: true,
  plans: true,
  onEvent: true,
  events: true,
  lifetime: true,
  maxKeysPerOrganization: true,
  dormantAfterDays: true,
  dormancySweepIntervalMs: true,
  credits: true,
};
const OPTION_NAMES = Object.keys(OPTIONS);
const CACHE_OPTION_NAMES = ['max', 'ttlMs', 'negativeTtlMs', 'negativeMax', 'ttl', 'negativeTtl'] as const;
const USAGE_OPTION_NAMES = ['intervalMs', 'flushDelayMs', 'flushIntervalMs'] as const;
const EVENTS_OPTION_NAMES = ['maintenanceIntervalMs'] as const;

export interface ResolvedOptions {
  store: KeyStore;
  scopes: ScopePolicy;
  prefix: string;
  pepper: string | Uint8Array | undefined;
  /** Earlier peppers, newest first: lookups fall back to them on a miss under `pepper`. */
  previousPeppers: Pepper[];
  /** Whether a token outside Keyward's format may be looked up; `null` when `legacyTokens` is unset. */
  legacyTokens: LegacyTokenTest;
  cache: ResolvedCacheOptions | false;
  usage: Required<UsageOptions>;
  clock: Clock;
  limits: ResolvedLimits;
  plans: ReadonlyMap<string, Readonly<PlanDefinition>>;
  onEvent: ((event: KeyEvent) => void | Promise<void>) | undefined;
  events: Required<EventsOptions>;
  lifetime: ResolvedLifetime;
  maxKeysPerOrganization: number;
  dormancy: ResolvedDormancy;
  dormancySweepIntervalMs: number | false;
  credits: CreditMeterSettings;
}

/** Validates options once (TypeError when wrong) and fills in defaults; never mutates `options`. */
export function resolveOptions(options: KeywardOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Keyward: options are required');
  checkOptionNames('Keyward', options, OPTION_NAMES);
  const { store } = options;
  const methods = ['insert', 'findByHash', 'findById', 'findBySlot', 'list', 'update'] as const;
  if (!store || methods.some((m) => typeof store[m] !== 'function')) {
    throw new TypeError('Keyward: options.store must implement KeyStore');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (!isValidPrefix(prefix)) throw new TypeError('Keyward: prefix must match ^[a-z][a-z0-9]{0,9}$');
  const { current: pepper, previous: previousPeppers } = resolvePeppers(options.pepper);
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new TypeError('Keyward: clock must be a function');
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TypeError('Keyward: onEvent must be a function');
  }
  return {
    store,
    scopes: createScopePolicy(options.scopes, options.publicScopes ?? []),
    prefix,
    pepper,
    previousPeppers,
    legacyTokens: legacyTokenTest(options.legacyTokens),
    cache: resolveCache(options.cache, typeof store.subscribe === 'function'),
    usage: positiveIntegers('usage', {
      intervalMs: 60_000,
      flushDelayMs: 1_000,
      flushIntervalMs: 60_000,
      ...defined(group('usage', options.usage, USAGE_OPTION_NAMES)),
    }),
    clock,
    limits: resolveLimits(options.limits),
    plans: resolvePlans(options.plans),
    onEvent: options.onEvent,
    events: positiveIntegers('events', {
      maintenanceIntervalMs: 60_000,
      ...defined(group('events', options.events, EVENTS_OPTION_NAMES)),
    }),
    lifetime: resolveLifetime(options.lifetime),
    maxKeysPerOrganization: resolveKeyCap(options.maxKeysPerOrganization),
    dormancy: resolveDormancy(options.dormantAfterDays),
    dormancySweepIntervalMs: resolveSweepInterval(options.dormancySweepIntervalMs),
    credits: resolveCreditOptions(options.credits),
  };
}

function resolveCache(
  cache: VerifyCacheOptions | false | undefined,
  hasFeed: boolean,
): ResolvedCacheOptions | false {
  if (cache === false) return false;
  const { ttl, negativeTtl, ...given } = defined(group('cache', cache, CACHE_OPTION_NAMES));
  // `ttl` and `negativeTtl` are the deprecated names of `ttlMs` and `negativeTtlMs`.
  if (ttl !== undefined && given.ttlMs !== undefined)
    throw new TypeError('Keyward: cache.ttl is cache.ttlMs: give one');
  if (negativeTtl !== undefined && given.negativeTtlMs !== undefined) {
    throw new TypeError('Keyward: cache.negativeTtl is cache.negativeTtlMs: give one');
  }
  // Without a change feed, other instances' changes are only seen when entries expire: keep them short
  // so the documented one-second freshness holds.
  return positiveIntegers('cache', {
    max: 10_000,
    ttlMs: hasFeed ? 60_000 : 1_000,
    negativeTtlMs: 5_000,
    negativeMax: 1_000,
    ...(ttl !== undefined && { ttlMs: ttl }),
    ...(negativeTtl !== undefined && { negativeTtlMs: negativeTtl }),
    ...given,
  });
}

/** An option group (`cache`, `usage`, `events`): an object of known names, or unset. */
function group<T extends object>(
  name: string,
  value: T | undefined,
  allowed: readonly string[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Keyward: ${name} must be an object`);
  }
  checkOptionNames(`Keyward: ${name}`, value, allowed);
  return value;
}

function positiveIntegers<T extends Record<string, unknown>>(group: string, values: T): Required<T> {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new TypeError(`Keyward: ${group}.${name} must be a positive integer`);
    }
  }
  return values as Required<T>;
}

/** `values` without its `undefined` members, so they do not override defaults. */
function defined<T extends object>(values: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(values ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
