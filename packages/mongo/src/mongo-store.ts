import {
  type DeliveryFaults,
  DuplicateKeyError,
  type EventListQuery,
  type ExpiringQuery,
  type KeyChangeEvent,
  type KeyChangeListener,
  type KeyChanges,
  type KeyEvent,
  type KeyListQuery,
  type KeyStore,
  KeyStoreUnavailableError,
  retentionMs,
  type StoredKey,
  type UpdateConditions,
  type UsageEntry,
} from '@keyward/core';
import type { Connection, Model } from 'mongoose';
import { ChangeFeed, type ChangeFeedMode } from './change-feed.js';
import { toStoreError, withTimeout } from './errors.js';
import { eventFilter } from './event-filter.js';
import { EventOutbox } from './event-outbox.js';
import { type EventDocument, eventModel, fromEventDocument, toEventDocument } from './event-schema.js';
import { KeyMove } from './key-move.js';
import { listFilter } from './list-filter.js';
import { log } from './logger.js';
import {
  type ChangeDocument,
  changeModel,
  fromDocument,
  type KeyDocument,
  keyModel,
  toDocument,
} from './schema.js';

/** The longest delay a Node.js timer takes. */
const MAX_TIMER_MS = 2_147_483_647;

/** Documents sent per command by `insertMany`. */
const INSERT_BATCH_SIZE = 1000;

/** `lastUsedAt` writes sent per command by `recordUsage`. */
const USAGE_BATCH_SIZE = 20;

/**
 * How far back each poll of the change log looks again, in ms. Change entries carry the writing instance's
 * clock, so the clocks of all instances must agree within this (NTP).
 */
const POLL_OVERLAP_MS = 10_000;

/** Options of `MongoKeyStore`. */
export interface MongoKeyStoreOptions {
  /** An open (or opening) mongoose connection of the app; the store never connects by itself. */
  connection: Connection;
  /** Collection of the keys; the change log is `<collection>_changes`. @default "keyward_keys" */
  collection?: string;
  /** Longest time a store call may take before it fails with `KeyStoreUnavailableError`, in ms. @default 5000 */
  timeoutMs?: number;
  /**
   * How instances learn of each other's changes. `poll` reads the change log every `pollIntervalMs` and
   * works on every server. `change-stream` (verified only where a replica set was available) watches the
   * change log and proves it with a heartbeat every 5 s: if none of its own comes back within 3 periods,
   * or the stream cannot be opened, the instance falls back to polling, clears its cache and logs why
   * (`changeFeedMechanism` then says `poll`). `auto` is an alias of `poll`, kept for apps written
   * against 0.1. @default "poll"
   */
  changeFeed?: ChangeFeedMode;
  /** Poll period when polling, in ms. @default 250 */
  pollIntervalMs?: number;
  /**
   * Audit events (collection `<collection>_events`) are deleted this many days after they happened: by a
   * TTL index on MongoDB, by the service's periodic `sweepEvents` on FerretDB (no TTL indexes there).
   * @default 400
   */
  eventRetentionDays?: number;
  /** Fault injection for tests (fails the event log write or the outbox clear). */
  faults?: DeliveryFaults;
}

/**
 * A `KeyStore` on MongoDB (4.4+, standalone, replica set or sharded) or FerretDB 1.24, through the app's
 * mongoose 8 or 9 connection.
 *
 * @example
 * const connection = await mongoose.createConnection(process.env.MONGO_URL).asPromise();
 * const keyward = createKeyward({ store: new MongoKeyStore({ connection }), scopes: ['read'] });
 */
export class MongoKeyStore implements KeyStore {
  readonly #model: Model<KeyDocument>;
  readonly #changes: Model<ChangeDocument>;
  readonly #events: Model<EventDocument>;
  readonly #outbox: EventOutbox;
  readonly #retentionMs: number;
  readonly #ObjectId: Connection['base']['Types']['ObjectId'];
  readonly #timeoutMs: number;
  readonly #listeners = new Set<KeyChangeListener>();
  readonly #feed: ChangeFeed;
  readonly #move: KeyMove;
  readonly #moves = new Map<string, Promise<StoredKey | null>>();
  #indexes: Promise<void> | null = null;
  #feedStart: Promise<void> | null = null;

  constructor(options: MongoKeyStoreOptions) {
    const { connection } = options ?? {};
    if (!connection || typeof connection.model !== 'function' || !connection.base?.Schema) {
      throw new TypeError('MongoKeyStore: options.connection must be a mongoose Connection');
    }
    const collection = options.collection ?? 'keyward_keys';
    // Letters, digits, `_`, `-` and `.`; not `system.*` (reserved by MongoDB) and not starting with a dot.
    if (
      typeof collection !== 'string' ||
      !/^(?!system\.)[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/.test(collection)
    ) {
      throw new TypeError('MongoKeyStore: collection must be a plain collection name');
    }
    const timeoutMs = options.timeoutMs ?? 5_000;
    const pollIntervalMs = options.pollIntervalMs ?? 250;
    for (const [name, value] of Object.entries({ timeoutMs, pollIntervalMs })) {
      // Node runs a timer of more than 2^31-1 ms after 1 ms, which would fail every call at once.
      if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
        throw new TypeError(`MongoKeyStore: ${name} must be a positive integer of at most ${MAX_TIMER_MS}`);
      }
    }
    const mode = options.changeFeed ?? 'poll';
    if (!['poll', 'change-stream', 'auto'].includes(mode)) {
      throw new TypeError('MongoKeyStore: changeFeed must be "poll" or "change-stream"');
    }
    this.#model = keyModel(connection, collection);
    this.#changes = changeModel(connection, collection);
    this.#events = eventModel(connection, collection);
    this.#retentionMs = retentionMs(options, 'MongoKeyStore');
    this.#outbox = new EventOutbox(this.#model, this.#events, this.#retentionMs, options.faults ?? {});
    this.#ObjectId = connection.base.Types.ObjectId;
    this.#move = new KeyMove(this.#model.collection as never);
    this.#timeoutMs = timeoutMs;
    this.#feed = new ChangeFeed(
      this.#changes,
      {
        mode: mode === 'change-stream' ? 'change-stream' : 'poll',
        pollIntervalMs,
        overlapMs: POLL_OVERLAP_MS,
      },
      (event) => this.#emit(event),
    );
  }

  /** Creates the indexes of the keys and of the change log (once; again after a failure). Every call awaits it. */
  ensureIndexes(): Promise<void> {
    this.#indexes ??= this.#opened()
      .then(() =>
        Promise.all([
          this.#model.createIndexes(),
          this.#changes.createIndexes(),
          this.#events.createIndexes(),
          this.#expiryIndex(),
        ]),
      )
      .then(() => undefined)
      .catch((error: unknown) => {
        this.#indexes = null;
        throw error;
      });
    return this.#indexes;
  }

  /**
   * Waits for a connection that is still opening (`mongoose.createConnection(url)` without awaiting it);
   * refuses one that is closed with a message that says so, instead of mongoose's about `bufferCommands`.
   */
  async #opened(): Promise<void> {
    const connection = this.#model.db;
    if (connection.readyState === 1) return;
    if (connection.readyState === 2) {
      try {
        await connection.asPromise();
      } catch (error) {
        // Not the URL: it may hold a password.
        throw new Error(
          `MongoKeyStore: the connection could not be opened (${(error as Error)?.name ?? 'error'}); check ` +
            "MONGO_URL, and pass serverSelectionTimeoutMS to fail sooner than mongoose's 30 s",
          { cause: error },
        );
      }
      return;
    }
    throw new Error(
      'MongoKeyStore: the mongoose connection is not open (readyState ' +
        `${connection.readyState}); open it first, e.g. await mongoose.createConnection(url).asPromise()`,
    );
  }

  /**
   * The change-feed mechanism in use once someone subscribed: `poll`, or `change-stream` while a stream
   * asked for proves itself (it turns to `poll` when the instance falls back).
   */
  get changeFeedMechanism(): 'change-stream' | 'poll' | null {
    return this.#feed.mechanism;
  }

  /** With `event`: the key and its event in one document write, then the event moved to the log. */
  async insert(key: StoredKey, event?: KeyEvent): Promise<void> {
    const entry = event && this.#outbox.entry(event);
    await this.#run('insert', async () => {
      const doc = entry ? { ...toDocument(key), outbox: { [event.id]: entry.doc } } : toDocument(key);
      await this.#model.collection.insertOne(doc as never);
    });
    if (entry) await this.#deliver(key.hash, entry.doc);
  }

  /**
   * Bulk import: sequential `insertMany` commands of 1,000 documents, unordered, so a duplicate refuses only
   * its own document (reported in order as `DuplicateKeyError`). No change-log entry, as for `insert`.
   */
  async insertMany(
    keys: ReadonlyArray<StoredKey>,
    events?: ReadonlyArray<KeyEvent | undefined>,
  ): Promise<Array<DuplicateKeyError | null>> {
    const outcomes: Array<DuplicateKeyError | null> = keys.map(() => null);
    for (let from = 0; from < keys.length; from += INSERT_BATCH_SIZE) {
      const batch = keys.slice(from, from + INSERT_BATCH_SIZE);
      // The batch's events first, idempotently by id (see KeyStore.insertMany), then the keys.
      const eventDocs = batch.flatMap((_, i) => {
        const event = events?.[from + i];
        return event ? [this.#outbox.entry(event).doc] : [];
      });
      if (eventDocs.length > 0) {
        await this.#run('insertMany', async () => {
          await this.#events.collection
            .insertMany(eventDocs as never[], { ordered: false })
            .catch((error) => {
              const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
              const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
              // Events written by an earlier attempt of the same import: kept once.
              if (list.length === 0 || list.some((e: { code?: number }) => e.code !== 11000)) throw error;
            });
        });
      }
      await this.#run('insertMany', async () => {
        try {
          await this.#model.collection.insertMany(batch.map(toDocument) as never[], { ordered: false });
        } catch (error) {
          const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
          const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
          if (list.length === 0) throw error;
          for (const writeError of list as Array<{ index: number; code?: number; err?: { code?: number } }>) {
            const mapped = toStoreError({ code: writeError.code ?? writeError.err?.code, ...writeError });
            if (!(mapped instanceof DuplicateKeyError)) throw error;
            outcomes[from + writeError.index] = mapped;
          }
        }
      });
    }
    return outcomes;
  }

  findByHash(hash: string): Promise<StoredKey | null> {
    // `_id` is the hash: one indexed lookup on MongoDB and on FerretDB 1.24.
    return this.#run('findByHash', async () => {
      const doc = await this.#model.findOne({ _id: hash }).lean<KeyDocument>().exec();
      if (!doc) return null;
      // A move in progress (or left half-way by a crash): answer as if it were not there.
      if (doc.moving) {
        const done = await this.#move.settle(doc);
        return done ? fromDocument(done) : null;
      }
      if (doc.movedTo) {
        // The old hash of a moved key: it answers nothing (fail closed), and is cleared away.
        const next = await this.#model.findOne({ _id: doc.movedTo }).lean<KeyDocument>().exec();
        if (next?.moving) await this.#move.settle(next);
        else await this.#model.collection.deleteOne({ _id: hash, movedTo: doc.movedTo } as never);
        return null;
      }
      return fromDocument(doc);
    });
  }

  findById(organizationId: string, id: string): Promise<StoredKey | null> {
    return this.#run('findById', async () => {
      const doc = await this.#model
        .findOne({ keyId: id, organizationId, deletedAt: null })
        .lean<KeyDocument>();
      if (doc) return fromDocument(doc);
      // Only on a miss: a move between its steps 2 and 3 (or left there by a crash) holds the id aside.
      const moved = await this.#finishPending({ keyId: `moving:${id}`, organizationId });
      return moved && !moved.deletedAt ? moved : null;
    });
  }

  findBySlot(slot: string): Promise<StoredKey | null> {
    return this.#run('findBySlot', async () => {
      const doc = await this.#model.findOne({ slot }).lean<KeyDocument>().exec();
      if (doc) return fromDocument(doc);
      return this.#finishPending({ slot: `moving:${slot}` });
    });
  }

  /**
   * Moves the key to `hash` (pepper rotation, SHA-256 import upgrade) in the crash-safe steps of
   * `KeyMove`, announced in the change log before and after like an update.
   */
  rehash(key: StoredKey, hash: string): Promise<StoredKey | null> {
    // Concurrent first uses in this process share one move (see KeyMove: one mover per key).
    const id = `${key.id}\u0000${hash}`;
    const running = this.#moves.get(id);
    if (running) return running;
    const move = this.#rehash(key, hash).finally(() => this.#moves.delete(id));
    this.#moves.set(id, move);
    return move;
  }

  #rehash(key: StoredKey, hash: string): Promise<StoredKey | null> {
    return this.#run('rehash', async () => {
      try {
        await this.#announce(key.id);
      } catch (error) {
        log('change-log entry before a re-hash failed (%s); key not moved', (error as Error).name);
        throw new KeyStoreUnavailableError(error);
      }
      const pending = await this.#move.begin(toDocument(key), hash);
      const moved = pending ? await this.#move.finish(pending) : null;
      await this.#announce(key.id).catch((error: unknown) => {
        log('change-log entry after a re-hash failed (%s); announced before it', (error as Error).name);
      });
      return moved ? fromDocument(moved) : null;
    });
  }

  async #finishPending(filter: Record<string, unknown>): Promise<StoredKey | null> {
    const pending = await this.#model.findOne(filter).lean<KeyDocument>().exec();
    if (!pending?.moving) return null;
    const done = await this.#move.settle(pending);
    return done ? fromDocument(done) : null;
  }

  /** One query: filter, sort and (for a page) limit all run on the server. */
  list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]> {
    return this.#run('list', async () => {
      const filter = query ? listFilter(organizationId, query) : { organizationId, deletedAt: null };
      let find = this.#model.find(filter).sort({ createdAt: -1, keyId: -1 });
      if (query) find = find.limit(query.limit);
      const docs = await find.lean<KeyDocument[]>().exec();
      return docs.map(fromDocument);
    });
  }

  /**
   * Announces, then writes, then announces again: one change-log entry, one conditional write of the key
   * (filter on `version` when given, `$inc` of `version` and `$set` of the changes in one
   * findOneAndUpdate), one more change-log entry.
   *
   * The first entry makes sure every instance hears of a change that reaches the store, whatever fails
   * after it; if it cannot be written, the key is not touched and the call fails (nothing changed). The
   * second entry tells pollers that read the first one before the write landed to read the key again; if
   * only the second fails the call still succeeds (logged). An update that matches nothing leaves a
   * spurious first entry, which only makes caches read the key again.
   *
   * With `event`, the same findOneAndUpdate sets `outbox.<eventId>`; after the write the event is moved to
   * `<collection>_events` (see `EventOutbox`), which never fails the update.
   */
  async update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions: UpdateConditions = {},
    event?: KeyEvent,
  ): Promise<StoredKey | null> {
    const entry = event && this.#outbox.entry(event);
    const updated = await this.#run('update', async () => {
      const filter: Record<string, unknown> = { keyId: id, organizationId, deletedAt: null };
      const { version } = conditions;
      // A document written before versions existed has none: it is version 0 (`null` matches a missing field).
      if (version !== undefined) filter.version = version === 0 ? { $in: [0, null] } : version;
      try {
        await this.#announce(id);
      } catch (error) {
        // Never a DuplicateKeyError: a change log that refuses entries is a store that cannot be written.
        log('change-log entry before an update failed (%s); key not written', (error as Error).name);
        throw new KeyStoreUnavailableError(error);
      }
      // The event rides in the same single-document write as the change (`outbox.<eventId>`).
      const set = entry ? { ...changes, [entry.path]: entry.doc } : { ...changes };
      const doc = await this.#model
        .findOneAndUpdate(filter, { $set: set, $inc: { version: 1 } }, { returnDocument: 'after' })
        .lean<KeyDocument>()
        .exec();
      if (!doc) return null;
      try {
        await this.#announce(id);
      } catch (error) {
        // The first entry already announced the change; its readers keep answers short until it settles.
        log('change-log entry after an update failed (%s); announced before it', (error as Error).name);
      }
      return fromDocument(doc);
    });
    if (updated && entry) await this.#deliver(updated.hash, entry.doc);
    return updated;
  }

  /**
   * Moves a written event to the log, bounded by `timeoutMs`; never fails the write it follows (the event
   * waits in the outbox for `deliverEvents`).
   */
  async #deliver(hash: string, doc: EventDocument): Promise<void> {
    await withTimeout(this.#outbox.deliver(hash, doc), this.#timeoutMs, 'deliverEvent').catch(
      (error: unknown) => log('event %s not moved to the log yet (%s)', doc._id, (error as Error).name),
    );
  }

  #announce(id: string): Promise<unknown> {
    return this.#changes.collection.insertOne({ _id: new this.#ObjectId(), keyId: id, at: new Date() });
  }

  async recordUsage(entries: ReadonlyArray<UsageEntry>): Promise<void> {
    // Small sequential batches: FerretDB 1.24 (SQLite) keeps a pooled connection per statement of an update
    // command until the command ends, and about 100 statements exhaust its pool of 100 and hang the database.
    for (let from = 0; from < entries.length; from += USAGE_BATCH_SIZE) {
      const batch = entries.slice(from, from + USAGE_BATCH_SIZE);
      await this.#run('recordUsage', async () => {
        await this.#model.bulkWrite(
          // `$max` moves lastUsedAt forward only (null sorts before any date). Filtering on `_id` (the hash)
          // alone keeps each write one indexed lookup: FerretDB 1.24 scans the whole collection for any other
          // filter. No change-log entry: lastUsedAt changes nothing a cache holds.
          batch.map(({ hash, at }) => ({
            updateOne: { filter: { _id: hash }, update: { $max: { lastUsedAt: at } } },
          })),
          { ordered: false },
        );
      });
    }
  }

  /** One query on `<collection>_events`: filter, sort and limit run on the server. */
  listEvents(organizationId: string, query: EventListQuery): Promise<KeyEvent[]> {
    return this.#run('listEvents', async () => {
      const docs = await this.#events
        .find(eventFilter(organizationId, query))
        .sort({ at: -1, _id: -1 })
        .limit(query.limit)
        .lean<EventDocument[]>()
        .exec();
      return docs.map(fromEventDocument);
    });
  }

  /** Inserts the event unless its id is there already (a duplicate `_id` is success). */
  appendEvent(event: KeyEvent): Promise<void> {
    return this.#run('appendEvent', async () => {
      await this.#events.collection
        .insertOne(toEventDocument(event, this.#retentionMs) as never)
        .catch((error: unknown) => {
          if ((error as { code?: unknown })?.code !== 11000) throw error;
        });
    });
  }

  /** Moves events left in key outboxes to the log (see `EventOutbox`). */
  deliverEvents(): Promise<number> {
    return this.#run('deliverEvents', () => this.#outbox.deliverAll());
  }

  /** Deletes events whose retention ended before `now` (the sweep for servers without TTL indexes). */
  sweepEvents(now: Date): Promise<number> {
    return this.#run('sweepEvents', async () => {
      const result = await this.#events.deleteMany({ expireAt: { $lt: now } }).exec();
      return result.deletedCount ?? 0;
    });
  }

  listExpiring(query: ExpiringQuery): Promise<StoredKey[]> {
    return this.#run('listExpiring', async () => {
      const filter: Record<string, unknown> = {
        deletedAt: null,
        rolledAt: null,
        expiresAt: { $gt: query.from, $lte: query.until },
      };
      if (query.organizationId !== undefined) filter.organizationId = query.organizationId;
      const docs = await this.#model
        .find(filter)
        .sort({ expiresAt: 1, keyId: 1 })
        .limit(query.limit)
        .lean<KeyDocument[]>()
        .exec();
      return docs.map(fromDocument);
    });
  }

  /**
   * Whether the server is FerretDB (`buildInfo.ferretdbVersion`), which has no TTL indexes.
   */
  async isFerretDB(): Promise<boolean> {
    const info = await this.#model.db.db?.admin().command({ buildInfo: 1 });
    return typeof info?.ferretdbVersion === 'string';
  }

  /** A TTL index on the events' `expireAt` on MongoDB; a plain index on FerretDB (the sweep uses it). */
  async #expiryIndex(): Promise<void> {
    const ttl = !(await this.isFerretDB());
    await this.#events.collection.createIndex(
      { expireAt: 1 },
      ttl ? { name: 'expire_at_ttl', expireAfterSeconds: 0 } : { name: 'expire_at' },
    );
  }

  subscribe(listener: KeyChangeListener): () => void {
    this.#listeners.add(listener);
    this.#feedStart ??= this.#feed.start();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Waits until the change feed is running (tests and health checks). */
  async feedReady(): Promise<void> {
    await this.#feedStart;
  }

  /** Stops the change feed. The connection stays open: it belongs to the app. */
  async close(): Promise<void> {
    this.#listeners.clear();
    await this.#feedStart?.catch(() => {});
    await this.#feed.stop();
  }

  #emit(event: KeyChangeEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A failing subscriber must not stop the feed.
      }
    }
  }

  async #run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.ensureIndexes().then(call), this.#timeoutMs, operation);
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
