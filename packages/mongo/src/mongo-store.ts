import type {
  KeyChangeEvent,
  KeyChangeListener,
  KeyChanges,
  KeyStore,
  StoredKey,
  UpdateConditions,
} from '@keyward/core';
import type { Connection, Model } from 'mongoose';
import { ChangeFeed, type ChangeFeedMode } from './change-feed.js';
import { toStoreError, withTimeout } from './errors.js';
import { fromDocument, type KeyDocument, keyModel, toDocument } from './schema.js';

/** The longest delay a Node.js timer takes. */
const MAX_TIMER_MS = 2_147_483_647;

/** `lastUsedAt` writes sent per command by `recordUsage`. */
const USAGE_BATCH_SIZE = 20;

/** Options of `MongoKeyStore`. */
export interface MongoKeyStoreOptions {
  /** An open (or opening) mongoose connection of the app; the store never connects by itself. */
  connection: Connection;
  /** Collection of the keys. @default "keyward_keys" */
  collection?: string;
  /** Longest time a store call may take before it fails with `KeyStoreUnavailableError`, in ms. @default 5000 */
  timeoutMs?: number;
  /**
   * How instances learn of each other's changes: `auto` picks change streams on replica sets and sharded
   * clusters and polling elsewhere (standalone MongoDB, FerretDB). @default "auto"
   */
  changeFeed?: ChangeFeedMode;
  /** Poll period when polling, in ms. @default 250 */
  pollIntervalMs?: number;
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
  readonly #timeoutMs: number;
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
    for (const [name, value] of Object.entries({ timeoutMs, pollIntervalMs })) {
      // Node runs a timer of more than 2^31-1 ms after 1 ms, which would fail every call at once.
      if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
        throw new TypeError(`MongoKeyStore: ${name} must be a positive integer of at most ${MAX_TIMER_MS}`);
      }
    }
    const mode = options.changeFeed ?? 'auto';
    if (!['auto', 'change-stream', 'poll'].includes(mode)) {
      throw new TypeError('MongoKeyStore: changeFeed must be "auto", "change-stream" or "poll"');
    }
    this.#model = keyModel(connection, collection);
    this.#timeoutMs = timeoutMs;
    this.#feed = new ChangeFeed(this.#model, { mode, pollIntervalMs, overlapMs: 2_000 }, (event) =>
      this.#emit(event),
    );
  }

  /** Creates the indexes (once; again after a failure). Every call awaits it. */
  ensureIndexes(): Promise<void> {
    this.#indexes ??= this.#model
      .createIndexes()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.#indexes = null;
        throw error;
      });
    return this.#indexes;
  }

  /** The change-feed mechanism in use once someone subscribed: `change-stream` or `poll`. */
  get changeFeedMechanism(): 'change-stream' | 'poll' | null {
    return this.#feed.mechanism;
  }

  async insert(key: StoredKey): Promise<void> {
    await this.#run('insert', async () => {
      await this.#model.collection.insertOne({ ...toDocument(key), changedAt: new Date() } as never);
    });
  }

  findByHash(hash: string): Promise<StoredKey | null> {
    return this.#one('findByHash', { hash });
  }

  findById(organizationId: string, id: string): Promise<StoredKey | null> {
    return this.#one('findById', { _id: id, organizationId, deletedAt: null });
  }

  findBySlot(slot: string): Promise<StoredKey | null> {
    return this.#one('findBySlot', { slot });
  }

  list(organizationId: string): Promise<StoredKey[]> {
    return this.#run('list', async () => {
      const docs = await this.#model
        .find({ organizationId, deletedAt: null })
        .sort({ createdAt: -1, _id: -1 })
        .lean<KeyDocument[]>()
        .exec();
      return docs.map(fromDocument);
    });
  }

  update(organizationId: string, id: string, changes: KeyChanges, conditions: UpdateConditions = {}) {
    return this.#run('update', async () => {
      const filter: Record<string, unknown> = { _id: id, organizationId, deletedAt: null };
      if (conditions.notRolled) filter.rolledAt = null;
      const doc = await this.#model
        .findOneAndUpdate(filter, { $set: { ...changes }, $currentDate: { changedAt: true } } as never, {
          returnDocument: 'after',
        })
        .lean<KeyDocument>()
        .exec();
      return doc ? fromDocument(doc) : null;
    });
  }

  async recordUsage(entries: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
    // Small sequential batches: FerretDB 1.24 (SQLite) keeps a pooled connection per statement of an update
    // command until the command ends, and about 100 statements exhaust its pool of 100 and hang the database.
    for (let from = 0; from < entries.length; from += USAGE_BATCH_SIZE) {
      const batch = entries.slice(from, from + USAGE_BATCH_SIZE);
      await this.#run('recordUsage', async () => {
        await this.#model.bulkWrite(
          // `$max` moves lastUsedAt forward only (null sorts before any date). Filtering on `_id` alone keeps
          // each write one indexed lookup: FerretDB 1.24 scans the whole collection for any other filter.
          batch.map(({ id, at }) => ({
            updateOne: { filter: { _id: id }, update: { $max: { lastUsedAt: at } } },
          })),
          { ordered: false },
        );
      });
    }
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

  #one(operation: string, filter: Record<string, unknown>): Promise<StoredKey | null> {
    return this.#run(operation, async () => {
      const doc = await this.#model.findOne(filter).lean<KeyDocument>().exec();
      return doc ? fromDocument(doc) : null;
    });
  }

  async #run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.ensureIndexes().then(call), this.#timeoutMs, operation);
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
