import { LRUCache } from 'lru-cache';
import { log } from '../shared/logger.js';
import type { Clock } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';

/** Options of last-used tracking. */
export interface UsageOptions {
  /** At most one `lastUsedAt` write per key per this many ms. @default 60000 */
  intervalMs?: number;
  /** Writes are gathered for this many ms and sent as one batch. @default 1000 */
  flushDelayMs?: number;
  /**
   * Usage counts (docs/reference.md §9) are written this often; a crash loses at most this much of them.
   * @default 60000
   */
  flushIntervalMs?: number;
}

/**
 * Records `lastUsedAt` off the request path: a key's first use and then at most once per interval, in
 * batches. `touch` never waits for the store; failures are logged and dropped.
 */
export class UsageRecorder {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #flushDelayMs: number;
  readonly #lastWritten: LRUCache<string, number>;
  #pending = new Map<string, { hash: string; at: number }>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    store: KeyStore,
    clock: Clock,
    options: Pick<Required<UsageOptions>, 'intervalMs' | 'flushDelayMs'>,
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#intervalMs = options.intervalMs;
    this.#flushDelayMs = options.flushDelayMs;
    this.#lastWritten = new LRUCache({ max: 100_000 });
  }

  /** Notes a use of the key now; returns when its use was last recorded (ms), so callers can skip calls. */
  touch(id: string, hash: string): number {
    const now = this.#clock();
    if (!this.#store.recordUsage) return now;
    const last = this.#lastWritten.get(id);
    if (last !== undefined && now - last < this.#intervalMs) return last;
    this.#lastWritten.set(id, now);
    this.#pending.set(id, { hash, at: now });
    if (!this.#timer) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushDelayMs);
      this.#timer.unref();
    }
    return now;
  }

  /** Writes what is pending now, as one batch. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#pending;
    this.#pending = new Map();
    if (batch.size === 0) return this.#flushing;
    const entries = [...batch].map(([id, { hash, at }]) => ({ id, hash, at: new Date(at) }));
    this.#flushing = this.#flushing
      .then(() => this.#store.recordUsage?.(entries))
      .catch((error: unknown) =>
        log('recording last use of %d keys failed: %s', entries.length, (error as Error)?.name),
      );
    return this.#flushing;
  }
}
