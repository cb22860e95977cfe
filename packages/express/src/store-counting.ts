import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { CounterMemoryStore, JOIN } from './counter-store.js';
import type { Count, CountedLimit, Counting } from './counting.js';
import { log } from './logger.js';

/**
 * Counting on express-rate-limit stores (the `store` option of `createKeyLimiter`): one store per window
 * length, so a request with N windows makes N `increment` calls (and, when refused, a `decrement` for each
 * window it did not exceed). Kept for any store the app brings; the limiter's own counting (memory, or
 * `redis`) counts every window in one step.
 */
export class StoreCounting implements Counting {
  readonly #factory: (windowMs: number) => Store;
  readonly #timeoutMs: number;
  readonly #where: string;
  readonly #stores = new Map<number, Store>();
  /** The limiter's memory stores, which hand each other open counts (`CounterMemoryStore`). */
  readonly #memoryStores = new Set<CounterMemoryStore>();

  constructor(factory: (windowMs: number) => Store, timeoutMs: number, where: string) {
    this.#factory = factory;
    this.#timeoutMs = timeoutMs;
    this.#where = where;
  }

  count(limits: readonly CountedLimit[]): Promise<readonly Count[]> {
    // Made here, not in the promise: a factory that returns no store is the app's fault, thrown at once.
    const stores = limits.map((l) => this.#store(l.windowSeconds));
    return this.#increment(limits, stores);
  }

  async #increment(limits: readonly CountedLimit[], stores: Store[]): Promise<readonly Count[]> {
    const infos = await Promise.all(limits.map((l, i) => (stores[i] as Store).increment(l.counter)));
    const counts = infos.map(toCount);
    if (counts.some((c, i) => c.hits > (limits[i] as CountedLimit).limit)) {
      // Only admitted requests count: give this one back to every window it did not exceed.
      counts.forEach((c, i) => {
        const { limit, counter } = limits[i] as CountedLimit;
        if (c.hits <= limit) void this.#giveBack(stores[i] as Store, counter);
      });
    }
    return counts;
  }

  /**
   * Drops the stores of a failed count; the next request makes them again. A store whose set-up failed
   * (e.g. RedisStore loading its script while Redis was down) may never work: a new one recovers once the
   * server is back.
   */
  failed(limits: readonly CountedLimit[]): void {
    for (const { windowSeconds } of limits) this.#stores.delete(windowSeconds);
  }

  async #giveBack(store: Store, counter: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        store.decrement(counter),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
          timer.unref?.();
        }),
      ]);
    } catch (error) {
      log(
        'rate limits: giving back a refused request failed (%s)',
        error instanceof Error ? error.name : typeof error,
      );
    } finally {
      clearTimeout(timer);
    }
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
      throw new TypeError(`${this.#where}: store() must return an express-rate-limit Store`);
    }
    if (store instanceof CounterMemoryStore) store[JOIN](this.#memoryStores);
    try {
      // Stores read only windowMs from the options (MemoryStore, RedisStore); init is not awaited there either.
      const started = store.init?.({ windowMs } as Options);
      if (started instanceof Promise)
        started.catch((error: unknown) =>
          log('store init failed (%s)', error instanceof Error ? error.name : typeof error),
        );
    } catch (error) {
      log('store init failed (%s)', error instanceof Error ? error.name : typeof error);
    }
    return store;
  }
}

function toCount(info: ClientRateLimitInfo): Count {
  const at = info.resetTime?.getTime();
  return { hits: info.totalHits, resetAt: at === undefined ? Number.NaN : at };
}
