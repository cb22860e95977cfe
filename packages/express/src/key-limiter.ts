import type { KeyPolicy, Keyward, KeywardError } from '@keyward/core';
import type { Response } from 'express';
import type { Store } from 'express-rate-limit';
import { type Count, type CountedLimit, type Counting, MemoryCounting } from './counting.js';
import { log } from './logger.js';
import type { Realm } from './options.js';
import { setRateLimitHeaders } from './rate-limit-headers.js';
import { RedisCounting, type RedisSendCommand } from './redis-counting.js';
import { refusal } from './refusal.js';
import { StoreCounting } from './store-counting.js';

/**
 * The `redis` option of `createKeyLimiter`: counts on one Redis server, every window of a request in one
 * script call.
 *
 * @example
 * const redis: KeyLimiterRedis = { sendCommand: (...args: string[]) => client.sendCommand(args), prefix: 'kw:' };
 */
export interface KeyLimiterRedis {
  /**
   * Sends one command and resolves to its reply: the function rate-limit-redis takes, e.g.
   * `(...args) => client.sendCommand(args)` (`redis`) or `(command, ...args) => client.call(command, ...args)`
   * (`ioredis`).
   */
  sendCommand: RedisSendCommand;
  /**
   * Put before every counter's name. The same as a `RedisStore`'s prefix keeps its counts when moving from
   * the `store` option to this one.
   * @default "kw:"
   */
  prefix?: string;
}

/**
 * Options of `createKeyLimiter`: where counts live, what happens when that store fails, and the
 * invalid-key throttle.
 *
 * @example
 * const options: KeyLimiterOptions = {
 *   redis: { sendCommand: (...args: string[]) => client.sendCommand(args), prefix: 'kw:' },
 *   onStoreError: 'closed',
 * };
 */
export interface KeyLimiterOptions {
  /**
   * Counts on one Redis server (not Cluster), exact across instances: each request is one `EVALSHA` of a
   * script that counts all of its windows (and gives a refused request back), whatever their number.
   * Exclusive with `store`.
   * @default undefined (counts in this process)
   */
  redis?: KeyLimiterRedis;
  /**
   * Makes the express-rate-limit `Store` that counts one window length; called once per distinct window
   * (the keys' `windowSeconds`, and the throttle's), with that length in ms, so a request is N store calls
   * for N windows (plus a `decrement` per window a refused request did not exceed). The limiter calls the
   * store's `init({ windowMs })` itself. Any express-rate-limit store works (`RedisStore` from
   * rate-limit-redis too, though `redis` does the same in one call). Give every window's store the same
   * Redis prefix: a key's own limits name their counters by slot, not window, so a changed window carries
   * on the count only where the new window's store sees the old one's counters (docs/reference.md §6).
   * Exclusive with `redis`.
   * @default undefined (counts in this process, synchronously)
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
   * Longest a counting call (the Redis script, a store's `increment` or `decrement`) may take; past it the call counts as failed and
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
   * Counts a refused key from `address`; answers the time its throttle window ends when the address is
   * now over the throttle (another instance may have counted the earlier ones), else 0. Synchronous on the
   * in-process counts, a promise on Redis or a store.
   */
  noteInvalidKey(address: string): number | Promise<number>;
  /**
   * Counts one request against every limit of `policy` and sets the `RateLimit-Policy` / `RateLimit`
   * headers of the tightest one; answers the refusal (429 `rate_limited`, or 503 when the store fails
   * and `onStoreError` is `'closed'`) or `null` when admitted. A refused request is given back to the
   * windows it did not exceed: only admitted requests count. Synchronous on the in-process counts (no
   * promise), a promise on Redis or a store.
   */
  consume(
    policy: KeyPolicy,
    res: Response | undefined,
    realm: Realm,
  ): KeywardError | null | Promise<KeywardError | null>;
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
 * Creates a key limiter: the counters of docs/reference.md §6. Without options it counts in memory (one
 * process, synchronously); give it `redis` to share counts between instances (one script call per request),
 * or a `store` factory for any express-rate-limit store. Options are checked once (TypeError).
 *
 * @example
 * import { createClient } from 'redis';
 *
 * const redis = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * await redis.connect();
 * const limiter = createKeyLimiter({
 *   redis: { sendCommand: (...args: string[]) => redis.sendCommand(args), prefix: 'kw:' },
 * });
 * app.use('/v1', apiKeyAuth(keyward, { limiter }));
 */
export function createKeyLimiter(options?: KeyLimiterOptions): KeyLimiter {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`${WHERE}: options must be an object`);
  }
  for (const name of Object.keys(options ?? {})) {
    if (!['redis', 'store', 'onStoreError', 'timeoutMs', 'invalidKeyThrottle'].includes(name)) {
      throw new TypeError(`${WHERE}: unknown option "${name}"`);
    }
  }
  const factory = options?.store;
  if (factory !== undefined && typeof factory !== 'function')
    throw new TypeError(`${WHERE}: store must be a function (windowMs) => Store`);
  const redis = resolveRedis(options?.redis);
  if (redis !== null && factory !== undefined)
    throw new TypeError(`${WHERE}: give either redis or store, not both`);
  const failMode = options?.onStoreError ?? 'open';
  if (failMode !== 'open' && failMode !== 'closed') {
    throw new TypeError(`${WHERE}: onStoreError must be 'open' or 'closed'`);
  }
  const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw new TypeError(`${WHERE}: timeoutMs must be an integer from 1 to 60000`);
  }
  const counting: Counting = redis
    ? new RedisCounting(redis.sendCommand, redis.prefix)
    : factory
      ? new StoreCounting(factory, timeoutMs, WHERE)
      : new MemoryCounting();
  return new Limiter(
    counting,
    failMode === 'closed',
    timeoutMs,
    resolveThrottle(options?.invalidKeyThrottle),
  );
}

function resolveRedis(value: unknown): { sendCommand: RedisSendCommand; prefix: string } | null {
  if (value === undefined) return null;
  const { sendCommand, prefix = 'kw:' } = (value ?? {}) as { sendCommand?: unknown; prefix?: unknown };
  if (typeof value !== 'object' || value === null || typeof sendCommand !== 'function') {
    throw new TypeError(
      `${WHERE}: redis must be { sendCommand: (...args: string[]) => Promise<reply>, prefix? }`,
    );
  }
  for (const name of Object.keys(value)) {
    if (name !== 'sendCommand' && name !== 'prefix')
      throw new TypeError(`${WHERE}: unknown redis option "${name}"`);
  }
  if (typeof prefix !== 'string') throw new TypeError(`${WHERE}: redis.prefix must be a string`);
  return { sendCommand: sendCommand as RedisSendCommand, prefix };
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
function bounded<T>(call: Promise<T>, ms: number): Promise<T> {
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
  readonly #counting: Counting;
  readonly #failClosed: boolean;
  readonly #timeoutMs: number;
  readonly #throttle: { limit: number; windowSeconds: number } | null;
  readonly #blocked = new Map<string, number>();

  constructor(
    counting: Counting,
    failClosed: boolean,
    timeoutMs: number,
    throttle: { limit: number; windowSeconds: number } | null,
  ) {
    this.#counting = counting;
    this.#failClosed = failClosed;
    this.#timeoutMs = timeoutMs;
    this.#throttle = throttle;
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

  noteInvalidKey(address: string): number | Promise<number> {
    const throttle = this.#throttle;
    if (throttle === null) return 0;
    // Never over its "limit": the throttle is judged here, and a counted refusal is never given back.
    const limits = [
      {
        counter: `invalid:${address}`,
        limit: Number.MAX_SAFE_INTEGER,
        windowSeconds: throttle.windowSeconds,
      },
    ];
    let counted: readonly Count[] | Promise<readonly Count[]>;
    try {
      counted = this.#counting.count(limits, Date.now());
    } catch (error) {
      return this.#throttleFailed(error, limits);
    }
    if (!(counted instanceof Promise)) return this.#block(address, counted[0] as Count, throttle);
    return bounded(counted, this.#timeoutMs).then(
      (counts) => this.#block(address, counts[0] as Count, throttle),
      (error: unknown) => this.#throttleFailed(error, limits),
    );
  }

  #throttleFailed(error: unknown, limits: readonly CountedLimit[]): number {
    log('invalid-key throttle: the counting store failed (%s); not counted', nameOf(error));
    if (!(error instanceof CountingTimeoutError)) this.#counting.failed?.(limits);
    return 0;
  }

  #block(address: string, count: Count, throttle: { limit: number; windowSeconds: number }): number {
    if (count.hits < throttle.limit) return 0;
    const until = Number.isNaN(count.resetAt) ? Date.now() + throttle.windowSeconds * 1000 : count.resetAt;
    if (this.#blocked.size >= MAX_BLOCKED) {
      const oldest = this.#blocked.keys().next().value;
      if (oldest !== undefined) this.#blocked.delete(oldest);
    }
    this.#blocked.set(address, until);
    // The limit-th refusal itself is answered as usual; only a count past the limit (counted by another
    // instance) turns this one into a throttle answer.
    return count.hits > throttle.limit ? until : 0;
  }

  consume(
    policy: KeyPolicy,
    res: Response | undefined,
    realm: Realm,
  ): KeywardError | null | Promise<KeywardError | null> {
    const { limits } = policy;
    const now = Date.now();
    // Synchronous where the counts are in this process: no promise, no timer (a Map cannot stall).
    const counted = this.#counting.count(limits, now);
    if (!(counted instanceof Promise)) return this.#decide(limits, counted, now, res, realm);
    return bounded(counted, this.#timeoutMs).then(
      (counts) => this.#decide(limits, counts, Date.now(), res, realm),
      (error: unknown) => this.#failed(error, limits, realm),
    );
  }

  #failed(error: unknown, limits: KeyPolicy['limits'], realm: Realm): KeywardError | null {
    // A slow store is kept (its connection is alive, only late); a failing one is made again.
    if (!(error instanceof CountingTimeoutError)) this.#counting.failed?.(limits);
    log(
      'rate limits: the counting store failed (%s); %s',
      nameOf(error),
      this.#failClosed
        ? 'refused with 503 (onStoreError: closed)'
        : 'admitted uncounted (onStoreError: open)',
    );
    return this.#failClosed ? refusal('key_store_unavailable', realm) : null;
  }

  /**
   * The answer on the counts: admitted with the headers of the tightest limit, or 429 with those of the
   * exceeded limit that frees up last (the counting already gave the request back to the other windows).
   */
  #decide(
    limits: KeyPolicy['limits'],
    counts: readonly Count[],
    now: number,
    res: Response | undefined,
    realm: Realm,
  ): KeywardError | null {
    let exceeded = -1;
    let retryAfter = 0;
    let tightest = 0;
    let tightestRemaining = Number.POSITIVE_INFINITY;
    let tightestReset = 0;
    for (let i = 0; i < limits.length; i++) {
      const { limit, windowSeconds } = limits[i] as KeyPolicy['limits'][number];
      const count = counts[i] as Count;
      const reset = resetSeconds(count.resetAt, windowSeconds, now);
      if (count.hits > limit) {
        if (reset >= retryAfter) {
          retryAfter = reset;
          exceeded = i;
        }
        continue;
      }
      const remaining = limit - count.hits;
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
    return refusal('rate_limited', realm, undefined, { 'Retry-After': String(retryAfter) });
  }
}

/** The longest window a limit may have (31 days). */
const MAX_WINDOW_SECONDS = 2_678_400;

/**
 * Whole seconds until the window resets (at least 1), from the store's reset time or the window length.
 * It may be past `windowSeconds`: a count carried on from a longer window resets when that one ends.
 */
function resetSeconds(at: number, windowSeconds: number, now: number): number {
  if (Number.isNaN(at)) return windowSeconds;
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
