import { randomBytes } from 'node:crypto';
import type { KeyChangeEvent } from '@keyward/core';
import type { Model } from 'mongoose';
import { log } from './logger.js';
import type { ChangeDocument } from './schema.js';

/**
 * How instances learn of each other's changes: `poll` (the default; `auto` is an alias of it, kept for
 * apps written against 0.1) or `change-stream`.
 */
export type ChangeFeedMode = 'poll' | 'change-stream' | 'auto';

/** Change-log entries older than this are deleted. */
export const CHANGE_RETENTION_MS = 10 * 60_000;
/** Each instance prunes the change log at most this often. */
const PRUNE_INTERVAL_MS = 60_000;
/** Change-log entries read per query of a poll; a poll pages through more. */
const POLL_PAGE_SIZE = 10_000;
/** A change-stream instance writes a heartbeat to the change log this often, in ms. */
export const HEARTBEAT_MS = 5_000;
/** Heartbeat periods without one of its own heartbeats coming back before a stream is given up. */
export const HEARTBEATS_MISSED = 3;

/** What the feed needs of a change stream (the driver's `ChangeStream`, or a stand-in in tests). */
export interface ChangeStreamLike {
  on(event: 'change', listener: (change: StreamChange) => void): unknown;
  once(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'resumeTokenChanged', listener: () => void): unknown;
  close(): Promise<void>;
}

/** The part of a change-stream insert event the feed reads. */
export interface StreamChange {
  _id: unknown;
  fullDocument?: { keyId?: unknown; heartbeat?: unknown };
}

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
  /** Heartbeat period of the `change-stream` mechanism, in ms. @default 5000 */
  heartbeatMs?: number;
  /** Heartbeat periods without one of ours coming back before falling back to polling. @default 3 */
  heartbeatsMissed?: number;
  /** Opens the change stream on the change log. @default the driver's `collection.watch` */
  openStream?: (pipeline: object[], options: { resumeAfter?: unknown }) => ChangeStreamLike;
}

type Emit = (event: KeyChangeEvent) => void;

/**
 * Whether a change stream still delivers, decided from the instance's own heartbeats: each one written to
 * the change log must come back through the stream; when none has for `limitMs`, the stream is stale.
 * Pure and clock-driven, so the decision can be tested without a replica set.
 */
export class StreamHealth {
  readonly #limitMs: number;
  #lastHeard: number;

  constructor(limitMs: number, now: number) {
    this.#limitMs = limitMs;
    this.#lastHeard = now;
  }

  /** One of our heartbeats came back at `now`. */
  heard(now: number): void {
    this.#lastHeard = Math.max(this.#lastHeard, now);
  }

  /** True when none came back for `limitMs` or longer: give the stream up and poll. */
  isStale(now: number): boolean {
    return now - this.#lastHeard >= this.#limitMs;
  }
}

/**
 * Reads the change log (`<collection>_changes`, entries for key updates) and emits `{ id }` for every
 * changed key. By default it polls the log's indexed `at` field: it works on every server (standalone,
 * replica set, sharded, FerretDB), and the log holds only the last minutes of changes, so the cost of a
 * poll does not grow with the number of keys.
 *
 * `change-stream` (verified only where a replica set was available) watches the log instead, and must
 * prove itself: every `heartbeatMs` the instance writes a heartbeat to the log, and if none of its own has
 * come back through the stream for `heartbeatsMissed` periods (or the stream cannot be opened at all), it
 * falls back to polling for good, emits `{ reset: true }` so caches are rebuilt, and logs why. A stream
 * that fails after working is reopened from its resume token; every gap ends with `{ reset: true }`.
 */
export class ChangeFeed {
  readonly #model: Model<ChangeDocument>;
  readonly #options: ChangeFeedOptions;
  readonly #emit: Emit;
  /** Marks this instance's heartbeats (random, per feed). */
  readonly #instance = randomBytes(8).toString('hex');
  #mechanism: 'change-stream' | 'poll' | null = null;
  #stopped = false;
  #stream: ChangeStreamLike | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #health: StreamHealth | null = null;
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

  /** The mechanism in use once started: `change-stream` or `poll` (also after a fallback). */
  get mechanism(): 'change-stream' | 'poll' | null {
    return this.#mechanism;
  }

  async start(): Promise<void> {
    if (this.#options.mode === 'change-stream') {
      this.#watch(null);
      if (this.#mechanism !== 'change-stream') return; // could not even open: polling already
      this.#startHeartbeats();
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
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    await this.#stream?.close().catch(() => {});
    this.#stream = null;
  }

  #openStream(pipeline: object[], options: { resumeAfter?: unknown }): ChangeStreamLike {
    if (this.#options.openStream) return this.#options.openStream(pipeline, options);
    return this.#model.collection.watch(pipeline, options) as unknown as ChangeStreamLike;
  }

  #watch(resumeAfter: unknown): void {
    if (this.#stopped) return;
    this.#mechanism = 'change-stream';
    let token: unknown = resumeAfter;
    let opened = false;
    let stream: ChangeStreamLike;
    try {
      // Only appended entries: the prune's deletions are no changes of keys.
      stream = this.#openStream(
        [{ $match: { operationType: 'insert' } }],
        resumeAfter ? { resumeAfter } : {},
      );
    } catch (error) {
      this.#fallBack(`could not be opened (${(error as Error).name})`);
      return;
    }
    this.#stream = stream;
    stream.on('change', (change) => {
      if (this.#stream !== stream) return;
      token = change._id;
      const doc = change.fullDocument;
      if (doc?.heartbeat === this.#instance) this.#health?.heard(Date.now());
      if (typeof doc?.keyId === 'string') this.#emit({ id: doc.keyId });
    });
    stream.once('resumeTokenChanged', () => {
      opened = true;
    });
    stream.once('error', (error: Error) => {
      log('change stream failed (%s)', error.name);
      if (this.#stopped || this.#stream !== stream) return;
      stream.close().catch(() => {});
      if (!opened) {
        this.#fallBack('could not be opened');
        return;
      }
      // It worked before: try again from where it stopped, after a short pause. The heartbeats decide
      // whether it ever delivers again.
      this.#emit({ reset: true });
      this.#stream = null;
      this.#timer = setTimeout(() => this.#watch(token), this.#options.pollIntervalMs);
      this.#timer.unref();
    });
  }

  #startHeartbeats(): void {
    const period = this.#options.heartbeatMs ?? HEARTBEAT_MS;
    this.#health = new StreamHealth(
      period * (this.#options.heartbeatsMissed ?? HEARTBEATS_MISSED),
      Date.now(),
    );
    const beat = async () => {
      if (this.#stopped || this.#mechanism !== 'change-stream') return;
      if (this.#health?.isStale(Date.now())) {
        this.#fallBack('delivered none of its own heartbeats in time');
        return;
      }
      try {
        await this.#model.collection.insertOne({
          _id: new this.#model.base.Types.ObjectId(),
          heartbeat: this.#instance,
          at: new Date(),
        });
      } catch (error) {
        log('change-stream heartbeat not written (%s)', (error as Error).name);
      }
      if (this.#stopped || this.#mechanism !== 'change-stream') return;
      this.#heartbeatTimer = setTimeout(beat, period);
      this.#heartbeatTimer.unref();
    };
    void beat();
  }

  /** Gives the change stream up for polling (for good), and has caches rebuilt. */
  #fallBack(reason: string): void {
    if (this.#stopped || this.#mechanism === 'poll') return;
    log('change stream %s; falling back to polling and clearing caches', reason);
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#pruneTimer) clearInterval(this.#pruneTimer);
    if (this.#heartbeatTimer) clearTimeout(this.#heartbeatTimer);
    this.#pruneTimer = null;
    this.#heartbeatTimer = null;
    this.#health = null;
    const stream = this.#stream;
    this.#stream = null;
    stream?.close().catch(() => {});
    this.#mechanism = 'poll';
    this.#emit({ reset: true });
    void this.#startPolling();
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
          // Heartbeats of change-stream instances carry no key.
          if (typeof keyId === 'string') this.#emit({ id: keyId });
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
