import { type IncrementResponse, MemoryStore, type Options } from 'express-rate-limit';

/** Node runs a timer of more than 2^31 - 1 ms after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The method by which a limiter groups its memory stores (not part of the public API). */
export const JOIN = Symbol('keyward.counterStore.join');

/**
 * express-rate-limit's `MemoryStore` (the default counting store of `createKeyLimiter`), with three
 * changes the key limiter needs:
 * - `increment` answers a snapshot of the count taken when it counted. The base class answers its live
 *   record, so requests that resume in the same microtask turn (e.g. every request waiting on one key
 *   lookup) would all read the last count and all be refused at the limit.
 * - Windows longer than a timer can wait (24.8 days; quotas go up to 31 days) are swept at most every
 *   2^31 - 1 ms instead of every millisecond,
 * - a sweep keeps records whose window is still open (the base class drops a record after two sweeps
 *   without a hit, which would be early once sweeps run more often than windows end),
 * - and the stores of one limiter (one per window length) hand each other their open records: a counter
 *   first counted here while another store of the limiter holds it in an open window carries on that
 *   count until that window ends (a key's limit whose window changed, docs/reference.md §6).
 *
 * @example
 * const limiter = createKeyLimiter({ store: () => new CounterMemoryStore() }); // what the default does
 */
export class CounterMemoryStore extends MemoryStore {
  /** The stores of the same limiter (this one included); set by the limiter, else this store alone. */
  #group: Set<CounterMemoryStore> = new Set([this]);

  /** Joins the stores of one limiter (called by `createKeyLimiter`), so open counts move between them. */
  [JOIN](group: Set<CounterMemoryStore>): void {
    this.#group = group;
    group.add(this);
  }

  override init(options: Options): void {
    super.init(options.windowMs > MAX_TIMER_MS ? { ...options, windowMs: MAX_TIMER_MS } : options);
    this.windowMs = options.windowMs;
    if (this.interval) clearInterval(this.interval);
    this.interval = setInterval(() => this.#sweep(), Math.min(this.windowMs, MAX_TIMER_MS));
    this.interval.unref?.();
  }

  override increment(key: string): Promise<IncrementResponse> {
    if (this.#group.size > 1 && !this.current.has(key) && !this.previous.has(key)) this.#takeOver(key);
    void super.increment(key);
    // The base class counted synchronously, before its promise settles: read the count now.
    const client = this.current.get(key);
    return Promise.resolve({ totalHits: client?.totalHits ?? 1, resetTime: client?.resetTime });
  }

  /** Moves `key`'s record here from another store of the group when its window there is still open. */
  #takeOver(key: string): void {
    const now = Date.now();
    for (const other of this.#group) {
      if (other === this) continue;
      const client = other.current.get(key) ?? other.previous.get(key);
      if (client === undefined) continue;
      other.current.delete(key);
      other.previous.delete(key);
      if (client.resetTime.getTime() > now) this.current.set(key, client);
      return;
    }
  }

  /** The base class's sweep (records not hit since the last sweep are forgotten), for closed windows only. */
  #sweep(): void {
    const now = Date.now();
    const next = new Map<string, { totalHits: number; resetTime: Date }>();
    for (const [key, client] of this.previous) {
      if (client.resetTime.getTime() > now) next.set(key, client);
    }
    this.previous = this.current;
    for (const [key, client] of next) if (!this.previous.has(key)) this.previous.set(key, client);
    this.current = new Map();
  }
}
