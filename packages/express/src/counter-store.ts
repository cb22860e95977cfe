import { type IncrementResponse, MemoryStore, type Options } from 'express-rate-limit';

/** Node runs a timer of more than 2^31 - 1 ms after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * express-rate-limit's `MemoryStore` (the default counting store of `createKeyLimiter`), with three
 * changes the key limiter needs:
 * - `increment` answers a snapshot of the count taken when it counted. The base class answers its live
 *   record, so requests that resume in the same microtask turn (e.g. every request waiting on one key
 *   lookup) would all read the last count and all be refused at the limit.
 * - Windows longer than a timer can wait (24.8 days; quotas go up to 31 days) are swept at most every
 *   2^31 - 1 ms instead of every millisecond,
 * - and a sweep keeps records whose window is still open (the base class drops a record after two sweeps
 *   without a hit, which would be early once sweeps run more often than windows end).
 *
 * @example
 * const limiter = createKeyLimiter({ store: () => new CounterMemoryStore() }); // what the default does
 */
export class CounterMemoryStore extends MemoryStore {
  override init(options: Options): void {
    super.init(options.windowMs > MAX_TIMER_MS ? { ...options, windowMs: MAX_TIMER_MS } : options);
    this.windowMs = options.windowMs;
    if (this.interval) clearInterval(this.interval);
    this.interval = setInterval(() => this.#sweep(), Math.min(this.windowMs, MAX_TIMER_MS));
    this.interval.unref?.();
  }

  override increment(key: string): Promise<IncrementResponse> {
    void super.increment(key);
    // The base class counted synchronously, before its promise settles: read the count now.
    const client = this.current.get(key);
    return Promise.resolve({ totalHits: client?.totalHits ?? 1, resetTime: client?.resetTime });
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
