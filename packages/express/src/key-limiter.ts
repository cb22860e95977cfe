import type { KeyPolicy, Keyward, KeywardError } from '@keyward/core';
import type { Response } from 'express';
import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { CounterMemoryStore, JOIN } from './counter-store.js';
import { log } from './logger.js';
import type { Realm } from './options.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { refusal } from './refusal.js';

/**
 * Options of `createKeyLimiter`: where counts live, what happens when that store fails, and the
 * invalid-key throttle.
 *
 * @example
 * import { RedisStore } from 'rate-limit-redis';
 * const options: KeyLimiterOptions = {
 *   store: () => new RedisStore({ sendCommand: (...args: string[]) => redis.sendCommand(args), prefix: 'kw:' }),
 *   onStoreError: 'closed',
 * };
 */
export interface KeyLimiterOptions {
  /**
   * Makes the express-rate-limit `Store` that counts one window length; called once per distinct window
   * (the keys' `windowSeconds`, and the throttle's), with that length in ms. The limiter calls the store's
   * `init({ windowMs })` itself. Any express-rate-limit store works: `RedisStore` from rate-limit-redis
   * (with `redis` or `ioredis`) makes limits exact across instances. Give every window's store the same
   * Redis prefix: a key's own limits name their counters by slot, not window, so a changed window carries
   * on the count only where the new window's store sees the old one's counters (docs/reference.md §6).
   * @default () => new CounterMemoryStore() (in this process only)
   */
  store?: (windowMs: number) => Store;
  /**
   * When the counting store fails (e.g. Redis is down): `'open'` admits the request without counting it
   * and logs a warning (`DEBUG=keyward:express`); `'closed'` answers 503 `key_store_unavailable`. The
   * invalid-key throttle fails open either way (the refused request is refused anyway).
   * @default "open"
   */
  onStoreError?: 'open' | 'closed';
  /**
   * Longest a counting call (`increment`, `decrement`) may take; past it the call counts as failed and
   * `onStoreError` applies, so a stalled store (a frozen Redis host keeps its connection open and never
   * answers) delays a request by this much at most instead of stalling it. An integer from 1 to 60,000.
   * @default 200
   */
  timeoutMs?: number;
  /**
   * The invalid-key throttle of docs/reference.md §6: a client address (`req.ip`; IPv6 grouped by /56 as
   * express-rate-limit does) that sent `limit` refused keys (`invalid_api_key`) within `windowSeconds` gets
   * 429 `too_many_invalid_keys` before any lookup until the window ends. `false` turns it off.
   * @default { limit: 50, windowSeconds: 300 }
   */
  invalidKeyThrottle?: { limit?: number; windowSeconds?: number } | false;
}

/**
 * Counts requests against keys' limits and refused keys against client addresses. Made once with
 * `createKeyLimiter` and passed to every `apiKeyAuth` (and the Passport strategy) that should share it.
 */
export interface KeyLimiter {
  /** When `address` is throttled, the time (ms) its window ends; else 0. Synchronous, no store read. */
  throttledUntil(address: string): number;
  /**
   * Counts a refused key from `address`; resolves to the time its throttle window ends when the address is
   * now over the throttle (another instance may have counted the earlier ones), else 0.
   */
  noteInvalidKey(address: string): Promise<number>;
  /**
   * Counts one request against every limit of `policy` and sets the `RateLimit-Policy` / `RateLimit`
   * headers of the tightest one; resolves to the refusal (429 `rate_limited`, or 503 when the store fails
   * and `onStoreError` is `'closed'`) or `null` when admitted. A refused request is given back to the
   * windows it did not exceed: only admitted requests count.
   */
  consume(policy: KeyPolicy, res: Response | undefined, realm: Realm): Promise<KeywardError | null>;
  /** Whether the invalid-key throttle is on. */
  readonly throttles: boolean;
  /** Whether any address is throttled now (or was, until its next check). */
  readonly blocking: boolean;
}

const DEFAULT_THROTTLE = { limit: 50, windowSeconds: 300 };
/** The most throttled addresses remembered; past it the oldest is forgotten (it is counted again). */
const MAX_BLOCKED = 10_000;
const WHERE = '@keyward/express createKeyLimiter';

/**
 * Creates a key limiter: the counters of docs/reference.md §6 on express-rate-limit stores. Without options it
 * counts in memory (one process); give it a `RedisStore` factory to share counts between instances.
 * Options are checked once (TypeError).
 *
 * @example
 * import { createClient } from 'redis';
 * import { RedisStore } from 'rate-limit-redis';
 *
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * await redis.connect();
 * const limiter = createKeyLimiter({
 *   store: () => new RedisStore({ sendCommand: (...args: string[]) => redis.sendCommand(args), prefix: 'kw:' }),
 * });
 * app.use('/v1', apiKeyAuth(keyward, { limiter }));
 */
export function createKeyLimiter(options?: KeyLimiterOptions): KeyLimiter {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${WHERE}: options must be an object`);
  }
  for (const name of Object.keys(options ?? {})) {
    if (!['store', 'onStoreError', 'timeoutMs', 'invalidKeyThrottle'].includes(name)) {
      throw new TypeError(`${WHERE}: unknown option "${name}"`);
    }
  }
  const factory = options?.store ?? (() => new CounterMemoryStore());
  if (typeof factory !== 'function')
    throw new TypeError(`${WHERE}: store must be a function (windowMs) => Store`);
  const failMode = options?.onStoreError ?? 'open';
  if (failMode !== 'open' && failMode !== 'closed') {
    throw new TypeError(`${WHERE}: onStoreError must be 'open' or 'closed'`);
  }
  const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new TypeError(`${WHERE}: timeoutMs must be an integer from 1 to 60000`);
  }
  return new Limiter(factory, failMode === 'closed', timeoutMs, resolveThrottle(options?.invalidKeyThrottle));
}

/** Default bound of one counting call: far above a healthy Redis round trip (< 1 ms on a LAN). */
const DEFAULT_TIMEOUT_MS = 200;

/** Thrown (and caught) when a counting call outlives `timeoutMs`. */
class CountingTimeoutError extends Error {
  override name = 'CountingTimeoutError';
}

/**
 * `call` bounded by `ms`: rejects with `CountingTimeoutError` past it. A late answer is dropped (a late
 * increment may still count: the store counted a request that was already answered per `onStoreError`).
 */
function bounded<T>(call: Promise<T> | T, ms: number): Promise<T> {
  if (!(call instanceof Promise)) return Promise.resolve(call);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CountingTimeoutError(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

const defaults = new WeakMap<Keyward, KeyLimiter>();

/**
 * The limiter `apiKeyAuth` and the Passport strategy use when given none: one per Keyward service, so every
 * middleware of an app counts against the same in-memory windows.
 */
export function defaultLimiter(keyward: Keyward): KeyLimiter {
  let limiter = defaults.get(keyward);
  if (!limiter) {
    limiter = createKeyLimiter();
    defaults.set(keyward, limiter);
  }
  return limiter;
}

/** The `limiter` option of `apiKeyAuth` / the Passport strategy: the given limiter, or the service's default. */
export function resolveLimiter(where: string, value: unknown, keyward: Keyward): KeyLimiter {
  if (value === undefined) return defaultLimiter(keyward);
  // A brand rather than instanceof: a limiter of this package's ESM build passed to its CJS build is one too.
  if ((value as { [BRAND]?: unknown } | null)?.[BRAND] !== true) {
    throw new TypeError(`${where}: limiter must come from createKeyLimiter()`);
  }
  return value as KeyLimiter;
}

const BRAND = Symbol.for('keyward.express.limiter');

class Limiter implements KeyLimiter {
  readonly [BRAND] = true;
  readonly #factory: (windowMs: number) => Store;
  readonly #failClosed: boolean;
  readonly #timeoutMs: number;
  readonly #throttle: { limit: number; windowMs: number; store: Store | null } | null;
  readonly #stores = new Map<number, Store>();
  readonly #blocked = new Map<string, number>();
  /** The limiter's memory stores, which hand each other open counts (`CounterMemoryStore`). */
  readonly #memoryStores = new Set<CounterMemoryStore>();

  constructor(
    factory: (windowMs: number) => Store,
    failClosed: boolean,
    timeoutMs: number,
    throttle: { limit: number; windowSeconds: number } | null,
  ) {
    this.#factory = factory;
    this.#failClosed = failClosed;
    this.#timeoutMs = timeoutMs;
    this.#throttle = throttle && {
      limit: throttle.limit,
      windowMs: throttle.windowSeconds * 1000,
      store: null,
    };
  }

  get throttles(): boolean {
    return this.#throttle !== null;
  }

  get blocking(): boolean {
    return this.#blocked.size > 0;
  }

  throttledUntil(address: string): number {
    if (this.#blocked.size === 0) return 0;
    const until = this.#blocked.get(address);
    if (until === undefined) return 0;
    if (until > Date.now()) return until;
    this.#blocked.delete(address);
    return 0;
  }

  async noteInvalidKey(address: string): Promise<number> {
    const throttle = this.#throttle;
    if (throttle === null) return 0;
    throttle.store ??= this.#make(throttle.windowMs);
    let count: ClientRateLimitInfo;
    try {
      count = await bounded(throttle.store.increment(`invalid:${address}`), this.#timeoutMs);
    } catch (error) {
      log('invalid-key throttle: the counting store failed (%s); not counted', nameOf(error));
      throttle.store = null;
      return 0;
    }
    if (count.totalHits < throttle.limit) return 0;
    const until = count.resetTime?.getTime() ?? Date.now() + throttle.windowMs;
    if (this.#blocked.size >= MAX_BLOCKED) {
      const oldest = this.#blocked.keys().next().value;
      if (oldest !== undefined) this.#blocked.delete(oldest);
    }
    this.#blocked.set(address, until);
    // The limit-th refusal itself is answered as usual; only a count past the limit (counted by another
    // instance) turns this one into a throttle answer.
    return count.totalHits > throttle.limit ? until : 0;
  }

  async consume(policy: KeyPolicy, res: Response | undefined, realm: Realm): Promise<KeywardError | null> {
    const { limits } = policy;
    const stores = limits.map((l) => this.#store(l.windowSeconds));
    let counts: ClientRateLimitInfo[];
    try {
      counts = await Promise.all(
        limits.map((l, i) => bounded((stores[i] as Store).increment(l.counter), this.#timeoutMs)),
      );
    } catch (error) {
      // A slow store is kept (its connection is alive, only late); a failing one is made again.
      if (!(error instanceof CountingTimeoutError)) this.#forget(limits, stores);
      log(
        'rate limits: the counting store failed (%s); %s',
        nameOf(error),
        this.#failClosed
          ? 'refused with 503 (onStoreError: closed)'
          : 'admitted uncounted (onStoreError: open)',
      );
      return this.#failClosed ? refusal('key_store_unavailable', realm) : null;
    }
    const now = Date.now();
    let exceeded = -1;
    let retryAfter = 0;
    let tightest = 0;
    let tightestRemaining = Number.POSITIVE_INFINITY;
    let tightestReset = 0;
    for (let i = 0; i < limits.length; i++) {
      const { limit, windowSeconds } = limits[i] as KeyPolicy['limits'][number];
      const count = counts[i] as ClientRateLimitInfo;
      const reset = resetSeconds(count, windowSeconds, now);
      if (count.totalHits > limit) {
        if (reset >= retryAfter) {
          retryAfter = reset;
          exceeded = i;
        }
        continue;
      }
      const remaining = limit - count.totalHits;
      if (remaining < tightestRemaining || (remaining === tightestRemaining && reset < tightestReset)) {
        tightest = i;
        tightestRemaining = remaining;
        tightestReset = reset;
      }
    }
    if (exceeded === -1) {
      setRateLimitHeaders(
        res,
        limits[tightest] as KeyPolicy['limits'][number],
        tightestRemaining,
        tightestReset,
      );
      return null;
    }
    setRateLimitHeaders(res, limits[exceeded] as KeyPolicy['limits'][number], 0, retryAfter);
    // Only admitted requests count: give this one back to every window it did not exceed.
    for (let i = 0; i < limits.length; i++) {
      const { limit, counter } = limits[i] as KeyPolicy['limits'][number];
      if ((counts[i] as ClientRateLimitInfo).totalHits <= limit) {
        bounded(stores[i]?.decrement(counter), this.#timeoutMs).catch((error: unknown) =>
          log('rate limits: giving back a refused request failed (%s)', nameOf(error)),
        );
      }
    }
    return refusal('rate_limited', realm, undefined, { 'Retry-After': String(retryAfter) });
  }

  /**
   * Drops the stores of a failed count; the next request makes them again. A store whose set-up failed
   * (e.g. RedisStore loading its script while Redis was down) may never work: a new one recovers once the
   * server is back.
   */
  #forget(limits: KeyPolicy['limits'], stores: Store[]): void {
    limits.forEach((l, i) => {
      if (this.#stores.get(l.windowSeconds) === stores[i]) this.#stores.delete(l.windowSeconds);
    });
  }

  #store(windowSeconds: number): Store {
    let store = this.#stores.get(windowSeconds);
    if (!store) {
      store = this.#make(windowSeconds * 1000);
      this.#stores.set(windowSeconds, store);
    }
    return store;
  }

  #make(windowMs: number): Store {
    const store = this.#factory(windowMs);
    if (typeof store !== 'object' || store === null || typeof store.increment !== 'function') {
      throw new TypeError(`${WHERE}: store() must return an express-rate-limit Store`);
    }
    if (store instanceof CounterMemoryStore) store[JOIN](this.#memoryStores);
    try {
      // Stores read only windowMs from the options (MemoryStore, RedisStore); init is not awaited there either.
      const started = store.init?.({ windowMs } as Options);
      if (started instanceof Promise)
        started.catch((error: unknown) => log('store init failed (%s)', nameOf(error)));
    } catch (error) {
      log('store init failed (%s)', nameOf(error));
    }
    return store;
  }
}

/** The longest window a limit may have (31 days). */
const MAX_WINDOW_SECONDS = 2_678_400;

/**
 * Whole seconds until the window resets (at least 1), from the store's reset time or the window length.
 * It may be past `windowSeconds`: a count carried on from a longer window resets when that one ends.
 */
function resetSeconds(count: ClientRateLimitInfo, windowSeconds: number, now: number): number {
  const at = count.resetTime?.getTime();
  if (at === undefined || Number.isNaN(at)) return windowSeconds;
  return Math.min(MAX_WINDOW_SECONDS, Math.max(1, Math.ceil((at - now) / 1000)));
}

function resolveThrottle(value: unknown): { limit: number; windowSeconds: number } | null {
  if (value === false) return null;
  if (value === undefined) return DEFAULT_THROTTLE;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${WHERE}: invalidKeyThrottle must be { limit?, windowSeconds? } or false`);
  }
  const { limit = DEFAULT_THROTTLE.limit, windowSeconds = DEFAULT_THROTTLE.windowSeconds } = value as {
    limit?: unknown;
    windowSeconds?: unknown;
  };
  if (!Number.isInteger(limit) || (limit as number) < 1) {
    throw new TypeError(`${WHERE}: invalidKeyThrottle.limit must be a positive integer`);
  }
  if (
    !Number.isInteger(windowSeconds) ||
    (windowSeconds as number) < 1 ||
    (windowSeconds as number) > 2_678_400
  ) {
    throw new TypeError(`${WHERE}: invalidKeyThrottle.windowSeconds must be an integer from 1 to 2678400`);
  }
  return { limit: limit as number, windowSeconds: windowSeconds as number };
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
