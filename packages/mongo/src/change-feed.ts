import type { KeyChangeEvent } from '@keyward/core';
import createDebug from 'debug';
import type { Model } from 'mongoose';
import type { KeyDocument } from './schema.js';

const log = createDebug('keyward:mongo');

/** How instances learn of each other's changes. */
export type ChangeFeedMode = 'auto' | 'change-stream' | 'poll';

export interface ChangeFeedOptions {
  mode: ChangeFeedMode;
  /** Poll period of the `poll` mechanism, in ms. */
  pollIntervalMs: number;
  /** How far back each poll looks again, in ms, for writes that committed out of order. */
  overlapMs: number;
}

type Emit = (event: KeyChangeEvent) => void;

/**
 * Watches the key collection and emits `{ id }` for every changed key: a change stream where the deployment
 * has one (replica sets, sharded clusters), else a poll of the indexed `changedAt` field (standalone
 * MongoDB, FerretDB). A failed change stream is restarted (with its resume token) and, if it cannot be
 * restarted, replaced by polling; every gap ends with `{ reset: true }` so caches are rebuilt.
 */
export class ChangeFeed {
  readonly #model: Model<KeyDocument>;
  readonly #options: ChangeFeedOptions;
  readonly #emit: Emit;
  #mechanism: 'change-stream' | 'poll' | null = null;
  #stopped = false;
  #stream: { close(): Promise<void> } | null = null;
  #timer: NodeJS.Timeout | null = null;
  #watermark = 0;
  #seen = new Map<string, number>();
  #failing = false;

  constructor(model: Model<KeyDocument>, options: ChangeFeedOptions, emit: Emit) {
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
    if (mode === 'change-stream') this.#watch(null);
    else await this.#startPolling();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
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
    const stream = this.#model.collection.watch([], options);
    this.#stream = stream;
    stream.on('change', (change: { _id: unknown; documentKey?: { _id?: unknown } }) => {
      token = change._id;
      const id = change.documentKey?._id;
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
        void this.#startPolling();
      }
    });
  }

  async #startPolling(): Promise<void> {
    this.#mechanism = 'poll';
    // changedAt is written with the server's clock: start from the server's idea of now.
    this.#watermark = await this.#serverTime();
    const tick = async () => {
      if (this.#stopped) return;
      await this.#poll();
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
    const since = new Date(this.#watermark - this.#options.overlapMs);
    try {
      const changed = await this.#model
        .find({ changedAt: { $gte: since } }, { _id: 1, changedAt: 1 })
        .sort({ changedAt: 1 })
        .limit(10_000)
        .lean<Array<{ _id: string; changedAt: Date }>>()
        .exec();
      if (this.#failing) {
        this.#failing = false;
        this.#emit({ reset: true });
      }
      for (const { _id, changedAt } of changed) {
        const at = changedAt.getTime();
        if (this.#seen.get(_id) === at) continue;
        this.#seen.set(_id, at);
        this.#watermark = Math.max(this.#watermark, at);
        this.#emit({ id: _id });
      }
      const horizon = this.#watermark - this.#options.overlapMs;
      for (const [id, at] of this.#seen) if (at < horizon) this.#seen.delete(id);
    } catch (error) {
      if (!this.#failing) log('change poll failed (%s); retrying', (error as Error).name);
      this.#failing = true;
    }
  }
}
