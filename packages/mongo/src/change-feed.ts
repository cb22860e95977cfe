import type { KeyChangeEvent } from '@keyward/core/store';
import type { Model } from 'mongoose';
import { log } from './logger.js';
import { type ChangeDocument, RESET_ALL } from './schema.js';

/** Change-log entries older than this are deleted. */
export const CHANGE_RETENTION_MS = 10 * 60_000;
/** Each instance prunes the change log at most this often. */
const PRUNE_INTERVAL_MS = 60_000;
/** Change-log entries read per query of a poll; a poll pages through more. */
const POLL_PAGE_SIZE = 10_000;

export interface ChangeFeedOptions {
  /** Poll period, in ms. */
  pollIntervalMs: number;
  /**
   * How far back each poll looks again, in ms: for writes that committed out of order and for clocks of
   * instances that differ (change entries carry the writer's clock).
   */
  overlapMs: number;
  /** Entries per query of a poll. @default 10000 */
  pageSize?: number;
}

type Emit = (event: KeyChangeEvent) => void;

/**
 * Polls the change log (`<collection>_changes`, one entry per key write) every `pollIntervalMs` through
 * its `at` index and emits `{ id }` for every changed key; after a failed poll, `{ reset: true }`. Works on
 * every server (standalone, replica set, sharded, FerretDB); the log holds only the last minutes of
 * changes, so the cost of a poll does not grow with the number of keys.
 */
export class ChangeFeed {
  readonly #model: Model<ChangeDocument>;
  readonly #options: ChangeFeedOptions;
  readonly #emit: Emit;
  #stopped = false;
  #timer: NodeJS.Timeout | null = null;
  #lastPrune = 0;
  #watermark = 0;
  /** Change entries already emitted (hex `_id` → `at`), dropped once below the poll's horizon. */
  #seen = new Map<string, number>();
  #failing = false;

  constructor(model: Model<ChangeDocument>, options: ChangeFeedOptions, emit: Emit) {
    this.#model = model;
    this.#options = options;
    this.#emit = emit;
  }

  async start(): Promise<void> {
    // Start from the server's idea of now; `overlapMs` covers instance clocks that differ from it.
    this.#watermark = await this.#serverTime();
    const tick = async () => {
      if (this.#stopped) return;
      await this.#poll();
      if (!this.#stopped && Date.now() - this.#lastPrune >= PRUNE_INTERVAL_MS) await this.#prune();
      if (!this.#stopped) {
        this.#timer = setTimeout(tick, this.#options.pollIntervalMs);
        this.#timer.unref();
      }
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  async #serverTime(): Promise<number> {
    try {
      const hello = await this.#model.db.db?.admin().command({ hello: 1 });
      const time = hello?.localTime;
      return time instanceof Date ? time.getTime() : Date.now();
    } catch {
      return Date.now();
    }
  }

  async #poll(): Promise<void> {
    const pageSize = this.#options.pageSize ?? POLL_PAGE_SIZE;
    let filter: Record<string, unknown> = {
      at: { $gte: new Date(this.#watermark - this.#options.overlapMs) },
    };
    try {
      // Page on (at, _id): a burst of more than a page of changes, even within one millisecond, moves on.
      for (;;) {
        const page = await this.#model
          .find(filter)
          .sort({ at: 1, _id: 1 })
          .limit(pageSize)
          .lean<ChangeDocument[]>()
          .exec();
        if (this.#failing) {
          this.#failing = false;
          this.#emit({ reset: true });
        }
        for (const { _id, keyId, at } of page) {
          const changeId = String(_id);
          if (this.#seen.has(changeId) || !(at instanceof Date)) continue;
          const time = at.getTime();
          this.#seen.set(changeId, time);
          this.#watermark = Math.max(this.#watermark, time);
          if (keyId === RESET_ALL) this.#emit({ reset: true });
          else if (typeof keyId === 'string') this.#emit({ id: keyId });
        }
        const last = page.at(-1);
        if (page.length < pageSize || !last || this.#stopped) break;
        filter = { $or: [{ at: { $gt: last.at } }, { at: last.at, _id: { $gt: last._id } }] };
      }
      const horizon = this.#watermark - this.#options.overlapMs;
      for (const [id, at] of this.#seen) if (at < horizon) this.#seen.delete(id);
    } catch (error) {
      if (!this.#failing) log('change poll failed (%s); retrying', (error as Error).name);
      this.#failing = true;
    }
  }

  /** Deletes change-log entries older than `CHANGE_RETENTION_MS`; failures only wait for the next round. */
  async #prune(): Promise<void> {
    this.#lastPrune = Date.now();
    try {
      await this.#model.deleteMany({ at: { $lt: new Date(Date.now() - CHANGE_RETENTION_MS) } }).exec();
    } catch (error) {
      log('change log prune failed (%s)', (error as Error).name);
    }
  }
}
