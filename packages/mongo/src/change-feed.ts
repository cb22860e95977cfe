import type { KeyChangeEvent } from '@keyward/core';
import createDebug from 'debug';
import type { Model } from 'mongoose';
import type { ChangeDocument } from './schema.js';

const log = createDebug('keyward:mongo');

/** How instances learn of each other's changes. */
export type ChangeFeedMode = 'auto' | 'change-stream' | 'poll';

/** Change-log entries older than this are deleted. */
export const CHANGE_RETENTION_MS = 10 * 60_000;
/** Each instance prunes the change log at most this often. */
const PRUNE_INTERVAL_MS = 60_000;
/** Entries read per poll at most. */
/** Change-log entries read per query of a poll; a poll pages through more. */
const POLL_PAGE_SIZE = 10_000;

export interface ChangeFeedOptions {
  mode: ChangeFeedMode;
  /** Poll period of the `poll` mechanism, in ms. */
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
 * Reads the change log (`<collection>_changes`, one entry per key update) and emits `{ id }` for every
 * changed key: a change stream on the log where the deployment has one (replica sets, sharded clusters),
 * else a poll of the log's indexed `at` field (standalone MongoDB, FerretDB). The log holds only the last
 * minutes of changes, so the cost of a poll does not grow with the number of keys. A failed change stream
 * is restarted (with its resume token) and, if it cannot be restarted, replaced by polling; every gap ends
 * with `{ reset: true }` so caches are rebuilt.
 */
export class ChangeFeed {
  readonly #model: Model<ChangeDocument>;
  readonly #options: ChangeFeedOptions;
  readonly #emit: Emit;
  #mechanism: 'change-stream' | 'poll' | null = null;
  #stopped = false;
  #stream: { close(): Promise<void> } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
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

  /** The mechanism in use once started: `change-stream` or `poll`. */
  get mechanism(): 'change-stream' | 'poll' | null {
    return this.#mechanism;
  }

  async start(): Promise<void> {
    const mode = this.#options.mode === 'auto' ? await this.#detect() : this.#options.mode;
    if (mode === 'change-stream') {
      this.#watch(null);
      // The poll prunes the log in poll mode; with a change stream a timer does it.
      void this.#prune();
      this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_INTERVAL_MS);
      this.#pruneTimer.unref();
    } else await this.#startPolling();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    await this.#stream?.close().catch(() => {});
    this.#stream = null;
  }

  async #detect(): Promise<'change-stream' | 'poll'> {
    try {
      const admin = this.#model.db.db?.admin();
      if (!admin) return 'poll';
      const [hello, build] = await Promise.all([
        admin.command({ hello: 1 }),
        admin.command({ buildInfo: 1 }),
      ]);
      if (build.ferretdbVersion) return 'poll';
      return hello.setName || hello.msg === 'isdbgrid' ? 'change-stream' : 'poll';
    } catch (error) {
      log('change feed detection failed (%s); polling', (error as Error).name);
      return 'poll';
    }
  }

  #watch(resumeAfter: unknown): void {
    if (this.#stopped) return;
    this.#mechanism = 'change-stream';
    const options = resumeAfter ? { resumeAfter } : {};
    let token: unknown = resumeAfter;
    let opened = false;
    // Only appended entries: the prune's deletions are no changes of keys.
    const stream = this.#model.collection.watch([{ $match: { operationType: 'insert' } }], options);
    this.#stream = stream;
    stream.on('change', (change: { _id: unknown; fullDocument?: { keyId?: unknown } }) => {
      token = change._id;
      const id = change.fullDocument?.keyId;
      if (typeof id === 'string') this.#emit({ id });
    });
    stream.once('resumeTokenChanged', () => {
      opened = true;
    });
    stream.once('error', (error: Error) => {
      log('change stream failed (%s)', error.name);
      if (this.#stopped) return;
      this.#emit({ reset: true });
      stream.close().catch(() => {});
      if (opened) {
        // It worked before: try again from where it stopped, after a short pause.
        this.#timer = setTimeout(() => this.#watch(token), this.#options.pollIntervalMs);
      } else {
        log('change streams unavailable; falling back to polling');
        if (this.#pruneTimer) clearInterval(this.#pruneTimer);
        this.#pruneTimer = null;
        void this.#startPolling();
      }
    });
  }

  async #startPolling(): Promise<void> {
    this.#mechanism = 'poll';
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
          if (this.#seen.has(changeId)) continue;
          const time = at.getTime();
          this.#seen.set(changeId, time);
          this.#watermark = Math.max(this.#watermark, time);
          this.#emit({ id: keyId });
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
