import { randomBytes } from 'node:crypto';
import { log } from '../shared/logger.js';
import type { Clock } from '../shared/types.js';
import type { KeyStore, UsageBucket } from '../store/store.js';
import {
  bucketStart,
  GRANULARITY_MS,
  USAGE_OUTCOMES,
  type UsageGranularity,
  type UsageOutcome,
} from '../usage/usage-outcomes.js';

const SLOTS = USAGE_OUTCOMES.length;
const ROLLED_UP: ReadonlyArray<UsageGranularity> = ['hour', 'day'];

/** A bucket's running total in this process, and what of it the store already holds. */
interface Tally {
  at: number;
  counts: Int32Array;
  /** Not yet written since the last change. */
  dirty: boolean;
}

/** One key's counting state in this process. */
interface KeyTally {
  organizationId: string;
  /** The current minute: the only thing the request path touches. */
  minute: Tally;
  /** What of `minute` has been rolled into the hour and day tallies already. */
  rolled: Int32Array;
  /** Minutes that ended before their last write. */
  ended: Tally[];
  hour: Map<number, Tally>;
  day: Map<number, Tally>;
}

/**
 * Counts verifications per key and outcome in process and writes them off the request path (docs/reference.md
 * §9). `count` is a Map read, a clock read and one increment. `flush` rolls the minutes counted since the
 * last flush into this instance's hour and day tallies and writes every changed bucket as this instance's
 * running total (`KeyStore.recordOutcomes`): a write replaces this instance's earlier write of the bucket
 * and no other instance ever writes it, so usage writes never meet each other or a key write. A crash
 * loses what was counted since the last flush; a failed write is tried again on the next flush.
 */
export class UsageCounter {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  /** Random per service: its buckets are its own. */
  readonly instanceId = randomBytes(9).toString('base64url');
  #keys = new Map<string, KeyTally>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #lastSweep = Number.NEGATIVE_INFINITY;

  constructor(store: KeyStore, clock: Clock, intervalMs: number) {
    this.#store = store;
    this.#clock = clock;
    this.#intervalMs = intervalMs;
  }

  /** Whether the store keeps counts (`recordOutcomes`); without it `count` does nothing. */
  get enabled(): boolean {
    return this.#store.recordOutcomes !== undefined;
  }

  /** Counts one verification of the key with `outcome` (an index into `USAGE_OUTCOMES`). */
  count(keyId: string, organizationId: string, outcome: number): void {
    if (outcome < 0 || !this.#store.recordOutcomes) return;
    const now = this.#clock();
    let tally = this.#keys.get(keyId);
    if (tally === undefined) {
      tally = {
        organizationId,
        minute: { at: bucketStart(now, 'minute'), counts: new Int32Array(SLOTS), dirty: false },
        rolled: new Int32Array(SLOTS),
        ended: [],
        hour: new Map(),
        day: new Map(),
      };
      this.#keys.set(keyId, tally);
      this.#schedule();
    } else if (now - tally.minute.at >= 60_000 || now < tally.minute.at) {
      this.#nextMinute(tally, now);
    }
    const counts = tally.minute.counts;
    counts[outcome] = (counts[outcome] as number) + 1;
    tally.minute.dirty = true;
  }

  /**
   * Counts by outcome name (`recordOutcome` of the service). `replacesAdmitted`: the verification was
   * counted as admitted already (by an earlier guard of the same request) and is refused now: the admitted
   * count of the current minute moves to `outcome` (if that minute has ended, it is only added).
   */
  countOutcome(keyId: string, organizationId: string, outcome: UsageOutcome, replacesAdmitted = false): void {
    const index = USAGE_OUTCOMES.indexOf(outcome);
    if (index <= 0 && replacesAdmitted) return;
    this.count(keyId, organizationId, index);
    const counts = this.#keys.get(keyId)?.minute.counts;
    if (replacesAdmitted && counts && (counts[0] as number) > 0) counts[0] = (counts[0] as number) - 1;
  }

  /** Writes every changed bucket now. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  /** Stops the timer (pending counts stay until `flush`). */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  #nextMinute(tally: KeyTally, now: number): void {
    this.#rollUp(tally);
    if (tally.minute.dirty) tally.ended.push(tally.minute);
    tally.minute = { at: bucketStart(now, 'minute'), counts: new Int32Array(SLOTS), dirty: false };
    tally.rolled = new Int32Array(SLOTS);
  }

  /** Adds what the current minute counted since its last roll-up to its hour and day. */
  #rollUp(tally: KeyTally): void {
    const { minute, rolled } = tally;
    let changed = false;
    for (let i = 0; i < SLOTS; i++) if (minute.counts[i] !== rolled[i]) changed = true;
    if (!changed) return;
    for (const granularity of ROLLED_UP) {
      const at = bucketStart(minute.at, granularity);
      const tallies = tally[granularity as 'hour' | 'day'];
      let bucket = tallies.get(at);
      if (!bucket) {
        bucket = { at, counts: new Int32Array(SLOTS), dirty: false };
        tallies.set(at, bucket);
      }
      for (let i = 0; i < SLOTS; i++)
        bucket.counts[i] =
          (bucket.counts[i] as number) + (minute.counts[i] as number) - (rolled[i] as number);
      bucket.dirty = true;
    }
    tally.rolled = Int32Array.from(minute.counts);
  }

  async #write(): Promise<void> {
    const store = this.#store;
    if (!store.recordOutcomes || this.#keys.size === 0) return;
    const now = this.#clock();
    const buckets: UsageBucket[] = [];
    const written: Tally[] = [];
    for (const [keyId, tally] of this.#keys) {
      if (now - tally.minute.at >= 60_000) this.#nextMinute(tally, now);
      else this.#rollUp(tally);
      const add = (granularity: UsageGranularity, t: Tally) => {
        if (!t.dirty) return;
        written.push(t);
        buckets.push({
          keyId,
          organizationId: tally.organizationId,
          granularity,
          at: new Date(t.at),
          instanceId: this.instanceId,
          counts: toCounts(t.counts),
        });
      };
      for (const t of tally.ended) add('minute', t);
      add('minute', tally.minute);
      for (const t of tally.hour.values()) add('hour', t);
      for (const t of tally.day.values()) add('day', t);
    }
    if (buckets.length > 0) {
      try {
        // Snapshots were taken above; counts added while the write is under way stay dirty.
        for (const t of written) t.dirty = false;
        await store.recordOutcomes(buckets);
      } catch (error) {
        for (const t of written) t.dirty = true;
        log('writing usage of %d buckets failed: %s', buckets.length, (error as Error)?.name);
        this.#schedule();
        return;
      }
    }
    this.#forgetEnded(now);
    if (this.#keys.size > 0) this.#schedule();
    if (store.sweepUsage && now - this.#lastSweep >= GRANULARITY_MS.hour) {
      this.#lastSweep = now;
      await store
        .sweepUsage(new Date(now))
        .catch((error: unknown) => log('sweeping usage failed: %s', (error as Error)?.name));
    }
  }

  /** Drops written buckets that can change no more (their period is over), and keys idle for a day. */
  #forgetEnded(now: number): void {
    for (const [keyId, tally] of this.#keys) {
      tally.ended = tally.ended.filter((t) => t.dirty);
      for (const granularity of ROLLED_UP) {
        const tallies = tally[granularity as 'hour' | 'day'];
        const current = bucketStart(now, granularity);
        for (const [at, t] of tallies) if (!t.dirty && at < current) tallies.delete(at);
      }
      const idle = tally.ended.length === 0 && tally.hour.size === 0 && tally.day.size === 0;
      if (idle && !tally.minute.dirty && tally.minute.at < bucketStart(now, 'minute'))
        this.#keys.delete(keyId);
    }
  }
}

function toCounts(counts: Int32Array): Partial<Record<UsageOutcome, number>> {
  const out: Partial<Record<UsageOutcome, number>> = {};
  for (let i = 0; i < SLOTS; i++)
    if (counts[i] !== 0) out[USAGE_OUTCOMES[i] as UsageOutcome] = counts[i] as number;
  return out;
}
