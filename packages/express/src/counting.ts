/** One counter a request is counted on: its name, its limit and its window (a key's `PolicyLimit`). */
export interface CountedLimit {
  readonly counter: string;
  readonly limit: number;
  readonly windowSeconds: number;
}

/** What one counter answered: the count with this request, and when its window ends (ms; NaN: unknown). */
export interface Count {
  readonly hits: number;
  readonly resetAt: number;
}

/**
 * Where a limiter counts (docs/reference.md §6): every counter of one request at once, all or nothing. When a
 * count goes over its limit, the request is given back to the counters it did not exceed (only admitted
 * requests count); the answered counts are those with the request, before that give-back. Synchronous where
 * the counts live in this process (a `Map` cannot stall), a promise where they live in a server.
 */
export interface Counting {
  count(limits: readonly CountedLimit[], now: number): readonly Count[] | Promise<readonly Count[]>;
  /** After a failed count (not a late one): drops what may be broken, so the next count starts afresh. */
  failed?(limits: readonly CountedLimit[]): void;
}

/** How often ended windows are swept from memory, at most (ms); a sweep runs on a count, not a timer. */
const SWEEP_EVERY_MS = 60_000;

interface CountRecord {
  hits: number;
  resetAt: number;
}

/**
 * The default counting of `createKeyLimiter`: fixed windows in one `Map` of this process, answered
 * synchronously (no promise, no timer). A counter is named by its slot, not its window, so a counter whose
 * limit changed window carries its count on until the window it was opened with ends (docs/reference.md §6).
 * Ended windows are swept on the first count a minute after the last sweep.
 */
export class MemoryCounting implements Counting {
  readonly #records = new Map<string, CountRecord>();
  #sweepAt = 0;

  /** How many counters are held (open windows, and ended ones until the next sweep). */
  get size(): number {
    return this.#records.size;
  }

  count(limits: readonly CountedLimit[], now: number): readonly Count[] {
    if (now >= this.#sweepAt) this.#sweep(now);
    const records = this.#records;
    const n = limits.length;
    const counts: CountRecord[] = new Array(n);
    let over = false;
    for (let i = 0; i < n; i++) {
      const { counter, limit, windowSeconds } = limits[i] as CountedLimit;
      let record = records.get(counter);
      if (record === undefined || record.resetAt <= now) {
        record = { hits: 1, resetAt: now + windowSeconds * 1000 };
        records.set(counter, record);
      } else record.hits++;
      if (record.hits > limit) over = true;
      // A snapshot only where it can change before it is read: the caller reads these at once.
      counts[i] = record;
    }
    if (!over) return counts;
    const answered: Count[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const record = counts[i] as CountRecord;
      answered[i] = { hits: record.hits, resetAt: record.resetAt };
      if (record.hits <= (limits[i] as CountedLimit).limit) record.hits--;
    }
    return answered;
  }

  #sweep(now: number): void {
    this.#sweepAt = now + SWEEP_EVERY_MS;
    for (const [counter, record] of this.#records) if (record.resetAt <= now) this.#records.delete(counter);
  }
}
