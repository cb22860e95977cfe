import { type KeyEvent, type KeyStore, KeyStoreUnavailableError } from '@keyward/core';
import {
  type CreditEntry,
  DuplicateKeyError,
  type EventListQuery,
  type ExpiringQuery,
  type IdempotencyRecord,
  type KeyChangeEvent,
  type KeyChangeListener,
  type KeyChanges,
  type KeyListQuery,
  type KeyScanQuery,
  retentionMs,
  type StoredKey,
  type UpdateOptions,
  type UsageBucket,
  type UsageEntry,
  type UsageReadQuery,
  type UsageRow,
} from '@keyward/core/store';
import type { Connection, Model, mongo } from 'mongoose';
import { ChangeFeed } from './change-feed.js';
import { type CreditDocument, MongoCreditLedger } from './credit-ledger.js';
import { toStoreError, withTimeout } from './errors.js';
import { eventFilter } from './event-filter.js';
import { type EventDocument, eventModel, fromEventDocument, toEventDocument } from './event-schema.js';
import type { WriteState } from './leases.js';
import { listFilter } from './list-filter.js';
import { log } from './logger.js';
import {
  fromDocument,
  type HashDocument,
  type KeyDocument,
  type LockDocument,
  RESET_ALL,
  storeModels,
  toDocument,
  type UsageDocument,
} from './schema.js';
import { readBuckets, type UsageBucketDocument, writeBuckets } from './usage-buckets.js';
import { type Plan, type WriteFaults, WritePath } from './write-path.js';

/** The longest delay a Node.js timer takes. */
const MAX_TIMER_MS = 2_147_483_647;
/** Documents sent per command by `insertMany`. */
const INSERT_BATCH_SIZE = 1000;
/** Last-use writes sent per command by `recordUsage` (FerretDB: ~100 statements exhaust its pool). */
const USAGE_BATCH_SIZE = 20;
/**
 * How far back each poll of the change log looks again, in ms. Change entries carry the writing instance's
 * clock, so the clocks of all instances must agree within this (NTP).
 */
const POLL_OVERLAP_MS = 10_000;

/** The options `MongoKeyStore` takes; any other name is refused (a typo would otherwise be ignored). */
const OPTIONS: readonly string[] = [
  'connection',
  'collection',
  'timeoutMs',
  'leaseMs',
  'pollIntervalMs',
  'eventRetentionDays',
  'faults',
];

/** Options of `MongoKeyStore`. */
export interface MongoKeyStoreOptions {
  /** An open (or opening) mongoose connection of the app; the store never connects by itself. */
  connection: Connection;
  /**
   * Collection of the keys; the others are `<collection>_hashes`, `_usage`, `_locks`, `_changes`,
   * `_events` and `_idempotency`. @default "keyward_keys"
   */
  collection?: string;
  /** Longest time a store call may take before it fails with `KeyStoreUnavailableError`, in ms. @default 5000 */
  timeoutMs?: number;
  /**
   * How long a write's lease on its key lasts, in ms: a writer that dies holding it blocks writes of that
   * key this long at most, then the next writer finishes its write. @default 5000
   */
  leaseMs?: number;
  /** Poll period of the change feed, in ms. @default 250 */
  pollIntervalMs?: number;
  /**
   * Audit events (collection `<collection>_events`) are deleted this many days after they happened: by a
   * TTL index on MongoDB, by the service's periodic `sweepEvents` on FerretDB (no TTL indexes there).
   * @default 400
   */
  eventRetentionDays?: number;
  /** Fault injection for tests: fail the event write, or stop a writer between two steps. */
  faults?: WriteFaults;
}

/**
 * A `KeyStore` on MongoDB (5.0+, standalone, replica set or sharded) or FerretDB 1.24, through the app's
 * mongoose 6.13+, 7.8+, 8 or 9 connection. Every key write is a guarded write under a per-key lease (write-path.ts);
 * the same code runs on every server.
 *
 * @example
 * const connection = await mongoose.createConnection(process.env.MONGO_URL).asPromise();
 * const keyward = createKeyward({ store: new MongoKeyStore({ connection }), scopes: ['read'] });
 */
export class MongoKeyStore implements KeyStore {
  readonly #models: ReturnType<typeof storeModels>;
  readonly #keys: mongo.Collection<KeyDocument>;
  readonly #hashes: mongo.Collection<HashDocument>;
  readonly #usage: mongo.Collection<UsageDocument>;
  /** `Idempotency-Key` records (`<collection>_idempotency`): one document per organization and key. */
  readonly #idempotency: mongo.Collection<IdempotencyDocument>;
  readonly #buckets: mongo.Collection<UsageBucketDocument>;
  /** The credit ledger (`<collection>_credits`, docs/reference.md §10). */
  readonly #credits: MongoCreditLedger;
  readonly #events: Model<EventDocument>;
  readonly #writes: WritePath;
  readonly #retentionMs: number;
  readonly #ObjectId: Connection['base']['Types']['ObjectId'];
  readonly #timeoutMs: number;
  /**
   * Options of the store's reads: `maxTimeMS` = `timeoutMs`, so the server cancels a read that outlives the
   * call's bound rather than leaving it running after the caller was answered 503 (the bound itself stays:
   * it also covers waiting for the connection; writes are not cancelled but settle, see `#write`).
   */
  readonly #reads: { maxTimeMS: number };
  readonly #listeners = new Set<KeyChangeListener>();
  readonly #feed: ChangeFeed;
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
    const leaseMs = options.leaseMs ?? 5_000;
    for (const [name, value] of Object.entries({ timeoutMs, pollIntervalMs, leaseMs })) {
      // Node runs a timer of more than 2^31-1 ms after 1 ms, which would fail every call at once.
      if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
        throw new TypeError(`MongoKeyStore: ${name} must be a positive integer of at most ${MAX_TIMER_MS}`);
      }
    }
    if ('changeFeed' in options) {
      throw new TypeError(
        'MongoKeyStore: the changeFeed option is gone (the feed always polls the change log)',
      );
    }
    for (const name of Object.keys(options)) {
      // As every Keyward factory: `timeout` for `timeoutMs` must not silently keep the default.
      if (!OPTIONS.includes(name)) throw new TypeError(`MongoKeyStore: unknown option "${name}"`);
    }
    this.#models = storeModels(connection, collection);
    this.#keys = this.#models.keys.collection as unknown as mongo.Collection<KeyDocument>;
    this.#hashes = this.#models.hashes.collection as unknown as mongo.Collection<HashDocument>;
    this.#usage = this.#models.usage.collection as unknown as mongo.Collection<UsageDocument>;
    this.#idempotency = connection.collection(
      `${collection}_idempotency`,
    ) as unknown as mongo.Collection<IdempotencyDocument>;
    this.#buckets = this.#models.usageBuckets.collection as unknown as mongo.Collection<UsageBucketDocument>;
    this.#events = eventModel(connection, collection);
    this.#credits = new MongoCreditLedger(
      connection.collection(`${collection}_credits`) as unknown as mongo.Collection<CreditDocument>,
    );
    this.#retentionMs = retentionMs(options, 'MongoKeyStore');
    this.#ObjectId = connection.base.Types.ObjectId;
    this.#timeoutMs = timeoutMs;
    this.#reads = Object.freeze({ maxTimeMS: timeoutMs });
    this.#writes = new WritePath(
      {
        keys: this.#keys,
        hashes: this.#hashes,
        locks: this.#models.locks.collection as unknown as mongo.Collection<LockDocument>,
        events: this.#events.collection as unknown as mongo.Collection<EventDocument>,
      },
      leaseMs,
      options.faults ?? {},
      (id) => this.#announce(id),
    );
    this.#feed = new ChangeFeed(
      this.#models.changes,
      { pollIntervalMs, overlapMs: POLL_OVERLAP_MS },
      (event) => this.#emit(event),
    );
  }

  /** Creates the indexes (once; again after a failure). Every call awaits it. */
  ensureIndexes(): Promise<void> {
    this.#indexes ??= this.#opened()
      .then(() =>
        Promise.all([
          this.#models.keys.createIndexes(),
          this.#models.changes.createIndexes(),
          this.#events.createIndexes(),
          this.#models.usageBuckets.createIndexes(),
          this.#credits.ensureIndexes(),
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
    const connection = this.#models.keys.db;
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

  /** A guarded write of a new key (see write-path.ts); no change-log entry (no instance has it cached). */
  insert(key: StoredKey, event?: KeyEvent): Promise<void> {
    return this.#write('insert', (state) =>
      this.#writes.insert(toDocument(key), event && toEventDocument(event, this.#retentionMs), state),
    );
  }

  /**
   * Bulk import: sequential batches of 1,000 unordered inserts (a duplicate refuses only its own key):
   * the batch's events first (idempotent by id: a re-run keeps one), then the keys, then their hash
   * pointers. One guarded write per key would cost too much here; an import that stops half-way is run
   * again, and reports the keys it inserted before as duplicates while completing their pointers.
   */
  async insertMany(
    keys: ReadonlyArray<StoredKey>,
    events?: ReadonlyArray<KeyEvent | undefined>,
  ): Promise<Array<DuplicateKeyError | null>> {
    const outcomes: Array<DuplicateKeyError | null> = keys.map(() => null);
    for (let from = 0; from < keys.length; from += INSERT_BATCH_SIZE) {
      const batch = keys.slice(from, from + INSERT_BATCH_SIZE);
      const eventDocs = batch.flatMap((_, i) => {
        const event = events?.[from + i];
        return event ? [toEventDocument(event, this.#retentionMs)] : [];
      });
      await this.#run('insertMany', async () => {
        if (eventDocs.length > 0) {
          const failed = await insertAll(this.#events.collection as never, eventDocs);
          if (failed.some((f) => !f.duplicate)) throw new Error('event insert failed');
        }
        const docs: KeyDocument[] = batch.map((key) => ({ ...toDocument(key), op: 'import' }));
        const refused = new Map<number, DuplicateKeyError>();
        for (const { index, error } of await insertAll(this.#keys as never, docs)) {
          const mapped = toStoreError(error);
          if (!(mapped instanceof DuplicateKeyError)) throw mapped;
          refused.set(index, mapped);
        }
        // Pointers for every key of the batch: a refused one may be this import's own, inserted by an
        // attempt that stopped before its pointer (ids derive from the token). A pointer to a key that is
        // not there finds nothing.
        const taken = await insertAll(
          this.#hashes as never,
          docs.map((d) => ({ _id: d.hash, keyId: d._id })),
        );
        if (taken.some((t) => !t.duplicate)) throw new Error('hash pointer insert failed');
        // Only a key inserted now can be refused by a pointer another key holds.
        const takenDocs = taken
          .filter(({ index }) => !refused.has(index))
          .map(({ index }) => docs[index] as KeyDocument);
        const pointers = takenDocs.length
          ? await this.#hashes.find({ _id: { $in: takenDocs.map((d) => d.hash) } }).toArray()
          : [];
        const owner = new Map(pointers.map((p) => [p._id, p.keyId]));
        for (const doc of takenDocs) {
          if (owner.get(doc.hash) === doc._id) continue;
          // Another key holds this hash: this key is refused.
          await this.#keys.deleteOne({ _id: doc._id, op: 'import' });
          refused.set(docs.indexOf(doc), new DuplicateKeyError('hash'));
        }
        for (const [index, error] of refused) outcomes[from + index] = error;
      });
    }
    return outcomes;
  }

  /** The hash pointer, then the key it names, each checked to be the one asked for. */
  findByHash(hash: string): Promise<StoredKey | null> {
    return this.#run('findByHash', async () => {
      const pointer = await this.#hashes.findOne({ _id: hash }, this.#reads);
      if (!pointer) return null;
      if (pointer._id !== hash) throw new Error('the server answered another hash pointer');
      const doc = await this.#writes.readKey(pointer.keyId, this.#timeoutMs);
      // A pointer whose key has another hash (a re-hash half-way) or none finds nothing.
      return doc && doc.hash === hash ? fromDocument(doc) : null;
    });
  }

  findById(organizationId: string, id: string): Promise<StoredKey | null> {
    return this.#run('findById', async () => {
      // A write of this key still settling (or left by a writer that died) is finished first.
      await this.#writes.leases.settle(id);
      const [doc, used] = await Promise.all([this.#writes.readKey(id, this.#timeoutMs), this.#lastUse([id])]);
      if (!doc || doc.organizationId !== organizationId || doc.deletedAt) return null;
      return fromDocument(doc, used.get(id) ?? null);
    });
  }

  findBySlot(slot: string): Promise<StoredKey | null> {
    return this.#run('findBySlot', async () => {
      const doc = await this.#keys.findOne({ slot }, this.#reads);
      if (doc && doc.slot !== slot) throw new Error('the server answered another key document');
      return doc ? fromDocument(doc) : null;
    });
  }

  /** One query for the keys (filter, sort, limit on the server), one for their last use (`$in`). */
  /** One `countDocuments` on the organization's index. */
  countKeys(organizationId: string): Promise<number> {
    return this.#run('countKeys', () =>
      this.#keys.countDocuments({ organizationId, deletedAt: null } as never, this.#reads),
    );
  }

  list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]> {
    return this.#run('list', async () => {
      const filter = query ? listFilter(organizationId, query) : { organizationId, deletedAt: null };
      let find = this.#keys.find(filter as never, this.#reads).sort({ createdAt: -1, _id: -1 });
      if (query) find = find.limit(query.limit);
      const docs = await find.toArray();
      for (const doc of docs) {
        if (doc.organizationId !== organizationId || doc.deletedAt) {
          throw new Error('the server answered a key outside the query');
        }
      }
      const used = await this.#lastUse(docs.map((d) => d._id));
      return docs.map((doc) => fromDocument(doc, used.get(doc._id) ?? null));
    });
  }

  /** The guarded write (see write-path.ts): check and write under the key's lease. */
  update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    options: UpdateOptions = {},
  ): Promise<StoredKey | null> {
    const { version, event, successor, successorEvent } = options;
    return this.#write('update', async (state) => {
      const doc = await this.#writes.update(
        id,
        (current): Plan | null => {
          if (current.organizationId !== organizationId || current.deletedAt) return null;
          if (version !== undefined && (current.version ?? 0) !== version) return null;
          return {
            set: { ...changes },
            ...(event && { event: toEventDocument(event, this.#retentionMs) }),
            ...(successor && { successor: toDocument(successor) }),
            ...(successor &&
              successorEvent && { successorEvent: toEventDocument(successorEvent, this.#retentionMs) }),
          };
        },
        state,
      );
      return doc && fromDocument(doc);
    });
  }

  /** A guarded write that gives the key its new hash, with the hash pointers kept in step. */
  rehash(key: StoredKey, hash: string): Promise<StoredKey | null> {
    return this.#write('rehash', async (state) => {
      const doc = await this.#writes.update(
        key.id,
        (current): Plan | null => {
          if (current.deletedAt || current.hash !== key.hash || (current.version ?? 0) !== key.version) {
            return null;
          }
          return { set: { hash }, rehash: { from: key.hash, to: hash } };
        },
        state,
      );
      return doc && fromDocument(doc);
    });
  }

  /** The entries of a credit chain (docs/reference.md §10). */
  readCredits(chain: string): Promise<CreditEntry[]> {
    return this.#run('readCredits', () => this.#credits.readCredits(chain));
  }

  /** Inserts a block of a credit chain; `false` when another instance inserted it first. */
  leaseCredits(chain: string, block: { n: number; size: number; leasedUntil: Date }): Promise<boolean> {
    return this.#run('leaseCredits', () => this.#credits.leaseCredits(chain, block));
  }

  /** Inserts the return of a credit block (once). */
  returnCredits(chain: string, n: number, amount: number): Promise<void> {
    return this.#run('returnCredits', () => this.#credits.returnCredits(chain, n, amount));
  }

  /** The organization's plan, from `<collection>_organizations`. */
  getOrganizationPlan(organizationId: string): Promise<string | null> {
    return this.#run('getOrganizationPlan', async () => {
      const doc = await this.#models.organizations.collection.findOne({ _id: organizationId } as never);
      const plan = (doc as { plan?: unknown } | null)?.plan;
      return typeof plan === 'string' ? plan : null;
    });
  }

  /**
   * Sets the organization's plan: one whole-document write of its own document (last writer wins: there
   * is nothing to check), then a change-log entry that has every instance re-read its cached keys.
   */
  setOrganizationPlan(organizationId: string, plan: string | null): Promise<void> {
    return this.#run('setOrganizationPlan', async () => {
      await this.#models.organizations.collection.replaceOne(
        { _id: organizationId } as never,
        { plan } as never,
        { upsert: true },
      );
      await this.#announce(RESET_ALL);
    });
  }

  #announce(id: string): Promise<unknown> {
    return this.#models.changes.collection.insertOne({
      _id: new this.#ObjectId(),
      keyId: id,
      at: new Date(),
    } as never);
  }

  /** Last use, in `<collection>_usage`: never a write of a key document. */
  async recordUsage(entries: ReadonlyArray<UsageEntry>): Promise<void> {
    for (let from = 0; from < entries.length; from += USAGE_BATCH_SIZE) {
      const batch = entries.slice(from, from + USAGE_BATCH_SIZE);
      await this.#run('recordUsage', async () => {
        try {
          await this.#usage.bulkWrite(
            // `$max` moves it forward only; `_id`-only filters are FerretDB's cheapest lookup.
            batch.map(({ id, at }) => ({
              updateOne: { filter: { _id: id }, update: { $max: { at } }, upsert: true },
            })),
            { ordered: false },
          );
        } catch (error) {
          // Two instances creating one key's usage document at once: one insert wins, the other's use is
          // at most a flush interval apart.
          const writeErrors = (error as { writeErrors?: Array<{ code?: number }> }).writeErrors;
          if (!Array.isArray(writeErrors) || writeErrors.some((e) => e.code !== 11000)) throw error;
        }
      });
    }
  }

  /**
   * Usage counts (docs/reference.md §9) in `<collection>_usage_buckets`: each bucket is one instance's running
   * total, replaced whole by that instance only (never a write of a key document, never two writers).
   */
  recordOutcomes(buckets: ReadonlyArray<UsageBucket>): Promise<void> {
    return this.#run('recordOutcomes', () => writeBuckets(this.#buckets, buckets));
  }

  /** A key's buckets by `_id` range, an organization's by index; instances summed here. */
  readUsage(query: UsageReadQuery): Promise<UsageRow[]> {
    return this.#run('readUsage', () => readBuckets(this.#buckets, query));
  }

  /** Deletes usage buckets whose retention ended before `now` (the sweep for servers without TTL indexes). */
  sweepUsage(now: Date): Promise<number> {
    return this.#run('sweepUsage', async () => {
      const result = await this.#buckets.deleteMany({ expireAt: { $lt: now } });
      return result.deletedCount ?? 0;
    });
  }

  async #lastUse(ids: string[]): Promise<Map<string, Date>> {
    if (ids.length === 0) return new Map();
    const docs = await this.#usage
      .find(ids.length === 1 ? { _id: ids[0] as string } : { _id: { $in: ids } }, this.#reads)
      .toArray();
    const wanted = new Set(ids);
    return new Map(docs.filter((d) => wanted.has(d._id) && d.at instanceof Date).map((d) => [d._id, d.at]));
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
      if (docs.some((d) => d.organizationId !== organizationId)) {
        throw new Error('the server answered an event of another organization');
      }
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

  /** Finishes writes whose writer died or whose event write failed (expired leases with a recorded write). */
  deliverEvents(): Promise<number> {
    return this.#run('deliverEvents', () => this.#writes.recoverAll());
  }

  /** Deletes events whose retention ended before `now` (the sweep for servers without TTL indexes). */
  /**
   * The claim is one `insertOne` of the record's unique `_id` (atomic on MongoDB and FerretDB: of concurrent
   * claims one wins). A dead record is deleted by its own `claim` (so a concurrent taker's new claim is
   * never deleted) and the insert tried again.
   */
  claimIdempotency(record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | null> {
    return this.#run('claimIdempotency', async () => {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          await this.#idempotency.insertOne({
            _id: record.id,
            fingerprint: record.fingerprint,
            claim: record.claim,
            response: null,
            lockedUntil: record.lockedUntil,
            expiresAt: record.expiresAt,
          });
          return null;
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          if (code !== 11000 && code !== 11001) throw error;
        }
        const doc = await this.#idempotency.findOne({ _id: record.id });
        if (!doc) continue; // Released in between: claim it again.
        if (doc._id !== record.id) throw new Error('the server answered another idempotency record');
        const dead = doc.expiresAt <= now || (doc.response === null && doc.lockedUntil <= now);
        if (!dead) {
          const { _id, ...fields } = doc;
          return { id: _id, ...fields };
        }
        await this.#idempotency.deleteOne({ _id: record.id, claim: doc.claim });
      }
      throw new Error('the idempotency record kept changing');
    });
  }

  completeIdempotency(id: string, claim: string, response: string): Promise<void> {
    return this.#run('completeIdempotency', async () => {
      await this.#idempotency.updateOne({ _id: id, claim }, { $set: { response } });
    });
  }

  releaseIdempotency(id: string, claim: string): Promise<void> {
    return this.#run('releaseIdempotency', async () => {
      await this.#idempotency.deleteOne({ _id: id, claim });
    });
  }

  /** Deletes old events and, with them, `Idempotency-Key` records past their 24 h (no TTL index needed). */
  sweepEvents(now: Date): Promise<number> {
    return this.#run('sweepEvents', async () => {
      await this.#idempotency.deleteMany({ expiresAt: { $lt: now } });
      const result = await this.#events.deleteMany({ expireAt: { $lt: now } }).exec();
      return result.deletedCount ?? 0;
    });
  }

  /**
   * The dormant-key sweep's walk (`KeyScanQuery`): one page of enabled, live keys of every organization
   * by `_id`, then their last use (`$in`). A full pass reads every such key once.
   */
  scanKeys(query: KeyScanQuery): Promise<StoredKey[]> {
    return this.#run('scanKeys', async () => {
      const filter: Record<string, unknown> = { deletedAt: null, rolledAt: null, disabled: { $ne: true } };
      if (query.after !== undefined) filter._id = { $gt: query.after };
      if (query.type !== undefined) filter.type = query.type;
      const docs = await this.#keys
        .find(filter as never)
        .sort({ _id: 1 })
        .limit(query.limit)
        .toArray();
      for (const doc of docs) {
        const outside =
          doc.deletedAt ||
          doc.rolledAt ||
          doc.disabled === true ||
          (query.after !== undefined && doc._id <= query.after) ||
          (query.type !== undefined && doc.type !== query.type);
        if (outside) throw new Error('the server answered a key outside the query');
      }
      const used = await this.#lastUse(docs.map((d) => d._id));
      return docs.map((doc) => fromDocument(doc, used.get(doc._id) ?? null));
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
      const docs = await this.#keys
        .find(filter as never)
        .sort({ expiresAt: 1, _id: 1 })
        .limit(query.limit)
        .toArray();
      for (const doc of docs) {
        const outside = query.organizationId !== undefined && doc.organizationId !== query.organizationId;
        if (outside || doc.deletedAt || doc.rolledAt)
          throw new Error('the server answered a key outside the query');
      }
      return docs.map((d) => fromDocument(d));
    });
  }

  /** Whether the server is FerretDB (`buildInfo.ferretdbVersion`), which has no TTL indexes. */
  async isFerretDB(): Promise<boolean> {
    const info = await this.#models.keys.db.db?.admin().command({ buildInfo: 1 });
    return typeof info?.ferretdbVersion === 'string';
  }

  /** A TTL index on the events' `expireAt` on MongoDB; a plain index on FerretDB (the sweep uses it). */
  async #expiryIndex(): Promise<void> {
    const ttl = !(await this.isFerretDB());
    const options = ttl ? { name: 'expire_at_ttl', expireAfterSeconds: 0 } : { name: 'expire_at' };
    await this.#events.collection.createIndex({ expireAt: 1 }, options);
    await this.#buckets.createIndex({ expireAt: 1 }, options);
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

  /**
   * A guarded write bounded by `timeoutMs`. A caller that gives up before the write was recorded stops
   * it there (nothing happens); after, the write goes on and settles, and the caller hears that it may
   * have been applied.
   */
  async #write<T>(operation: string, call: (state: WriteState) => Promise<T>): Promise<T> {
    const state: WriteState = { cancelled: false, recorded: false };
    try {
      return await withTimeout(
        this.ensureIndexes().then(() => call(state)),
        this.#timeoutMs,
        operation,
      );
    } catch (error) {
      state.cancelled = true;
      if (error instanceof DuplicateKeyError) throw error;
      if (error instanceof KeyStoreUnavailableError && error.mayHaveApplied) throw error;
      if (state.recorded) {
        log('%s may have been applied (%s); it settles', operation, (error as Error).name);
        throw new KeyStoreUnavailableError(error, { mayHaveApplied: true });
      }
      throw toStoreError(error);
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

/** An `Idempotency-Key` record as stored (see `IdempotencyRecord`). */
interface IdempotencyDocument {
  _id: string;
  fingerprint: string;
  claim: string;
  response: string | null;
  lockedUntil: Date;
  expiresAt: Date;
}

/** Unordered `insertMany`; resolves with the documents refused (by index), rejects on other faults. */
async function insertAll(
  collection: mongo.Collection,
  docs: object[],
): Promise<Array<{ index: number; duplicate: boolean; error: unknown }>> {
  if (docs.length === 0) return [];
  try {
    await collection.insertMany(docs as never[], { ordered: false });
    return [];
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0) throw error;
    return (list as Array<{ index: number; code?: number; err?: { code?: number } }>).map((e) => {
      const code = e.code ?? e.err?.code;
      return { index: e.index, duplicate: code === 11000, error: { ...e, code } };
    });
  }
}
