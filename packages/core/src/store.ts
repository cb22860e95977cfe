import type { DuplicateKeyError } from './errors.js';
import type { KeyEvent, KeyEventType } from './events.js';
import type { KeyStatus, KeyType, StoredKey } from './types.js';

/** Fields the service changes on an existing key. */
export type KeyChanges = Partial<
  Pick<
    StoredKey,
    | 'name'
    | 'scopes'
    | 'expiresAt'
    | 'disabled'
    | 'rolledAt'
    | 'replacedBy'
    | 'deletedAt'
    | 'updatedAt'
    | 'slot'
    | 'limits'
    | 'allowedOrigins'
    | 'allowedIps'
  >
>;

/**
 * One page of an organization's keys (`KeyStore.list` with a query): newest first (ties broken by id,
 * descending), at most `limit` keys, only those after `after` in that order and matching every filter.
 * Without `status`, rolled keys whose grace period has ended (status `expired` with `rolledAt` set) are
 * left out. `status` is judged at `now`, as `keyStatus` does.
 */
export interface KeyListQuery {
  /** At most this many keys. */
  limit: number;
  /** Only keys after this one in list order (created earlier, or at the same time with a smaller id). */
  after?: { createdAt: Date; id: string };
  /** Only keys whose name contains `q` (ignoring case), or whose token ends with `q` (4 characters, exact). */
  q?: string;
  type?: KeyType;
  /** Only keys with this status at `now`. */
  status?: KeyStatus;
  /** The clock reading statuses are judged at. */
  now: Date;
}

/** One key's last use. */
export interface UsageEntry {
  id: string;
  hash: string;
  at: Date;
}

/** Extra conditions on an update; the update happens only if all hold at write time. */
export interface UpdateConditions {
  /**
   * Only if the key's `version` is still this one: the state the caller checked is the state it changes
   * (compare-and-set). Without it the update applies to any version.
   */
  version?: number;
}

/**
 * A change announced by a store's feed: the key with `id` changed (or was deleted) somewhere, or
 * `{ reset: true }` when the feed may have missed changes (after a lost connection) and every cached
 * key must be read again.
 */
export type KeyChangeEvent = { id: string } | { reset: true };

export type KeyChangeListener = (event: KeyChangeEvent) => void;

/**
 * One page of an organization's events (`KeyStore.listEvents`): newest first (ties broken by id,
 * descending), at most `limit`, only those after `after` in that order and matching every filter.
 */
export interface EventListQuery {
  limit: number;
  /** Only events after this one in list order (earlier, or at the same time with a smaller id). */
  after?: { at: Date; id: string };
  keyId?: string;
  type?: KeyEventType;
}

/** Keys that expire in `(from, until]` (`KeyStore.listExpiring`). */
export interface ExpiringQuery {
  /** Keys already expired at this time are left out. */
  from: Date;
  /** Keys expiring after this time are left out. */
  until: Date;
  /** Only this organization's keys; all organizations without it. */
  organizationId?: string;
  limit: number;
}

/**
 * Where keys live. Promise-based; misses return `null`; a store that cannot be reached rejects (the
 * service turns that into `KeyStoreUnavailableError`). Deleted keys keep their record with `deletedAt` set:
 * `findByHash` returns them (verify refuses them), `findById` and `list` do not.
 *
 * Run `runKeyStoreConformance` from `@keyward/core/testing` against every implementation.
 */
export interface KeyStore {
  /**
   * Adds a key; rejects with `DuplicateKeyError` when `id`, `hash` or `slot` already exists. With `event`,
   * the event is written in the same single write as the key (an outbox on the key's record) and then
   * moved to the event log (see `listEvents`): the key exists if and only if its event does, eventually.
   */
  insert(key: StoredKey, event?: KeyEvent): Promise<void>;
  /** The key with this hash, deleted or not. */
  findByHash(hash: string): Promise<StoredKey | null>;
  /** The organization's key with this id, unless deleted. */
  findById(organizationId: string, id: string): Promise<StoredKey | null>;
  /** The key holding `slot`, deleted or not (used for default-key idempotency). */
  findBySlot(slot: string): Promise<StoredKey | null>;
  /**
   * The organization's keys that are not deleted, newest first (ties broken by id, descending): all of
   * them without `query`, else one page of them (see `KeyListQuery`), read with one query.
   */
  list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]>;
  /**
   * Applies `changes` to the organization's key unless it is deleted (or a condition fails), and adds 1
   * to its `version`, as one conditional write. Returns the updated key, or `null` when nothing matched.
   * A store with a change feed must make the change visible to every subscriber whenever the key changed,
   * even if the call then fails (e.g. announce it before and after the write).
   */
  update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    conditions?: UpdateConditions,
    event?: KeyEvent,
  ): Promise<StoredKey | null>;

  /**
   * Optional: records last use; each entry sets `lastUsedAt` only if it moves forward. Entries carry the
   * key's hash too, for stores whose fastest lookup is by hash.
   */
  recordUsage?(entries: ReadonlyArray<UsageEntry>): Promise<void>;
  /**
   * Optional: inserts many keys at once (bulk import). Resolves with one entry per key, in order: `null`
   * when it was inserted, or the `DuplicateKeyError` that refused it (`id`, `hash` or `slot` exists). Any
   * other fault rejects (then some keys may have been inserted: inserting them again reports duplicates).
   * Without it, the service inserts one key at a time. `events[i]`, when given, is the `key.imported` event
   * of `keys[i]`, with an id that is the same on every attempt: write it to the event log idempotently
   * **before** the key (one document write per key would cost a bulk import too much on FerretDB). If the
   * import stops in between, the event waits for its key; running the import again inserts the key and
   * keeps the one event.
   */
  insertMany?(
    keys: ReadonlyArray<StoredKey>,
    events?: ReadonlyArray<KeyEvent | undefined>,
  ): Promise<Array<DuplicateKeyError | null>>;
  /**
   * Optional: moves `key` (as read, with its `hash` and `version`) to a new hash, as when its token is
   * re-hashed with the current pepper or a SHA-256 import is upgraded. Only if the key still has that hash
   * and version and is not deleted; adds 1 to `version`. Afterwards `findByHash(hash)` returns the key and
   * `findByHash(key.hash)` returns `null`; nothing else about the key changes. Returns the moved key, or
   * `null` when nothing matched (changed, deleted or moved meanwhile). Rejects with `DuplicateKeyError`
   * when another key holds `hash`. A store with a change feed announces it like an update. A crash at any
   * point must never lose the key, duplicate it, or bring back a deleted one. Without it, keys hashed
   * under a previous pepper keep their hash (and keep needing that pepper).
   */
  rehash?(key: StoredKey, hash: string): Promise<StoredKey | null>;
  /** Optional: calls `listener` whenever any key changes, from any process sharing the store. */
  subscribe?(listener: KeyChangeListener): () => void;
  /**
   * Optional (required for audit events): one page of the organization's event log (see `EventListQuery`).
   * Events still in a key's outbox are not listed until `deliverEvents` (or the write's own delivery) moves
   * them. Events past the store's retention may be left out.
   */
  listEvents?(organizationId: string, query: EventListQuery): Promise<KeyEvent[]>;
  /**
   * Optional: writes an event that goes with no change of a key (`key.used_after_roll`). Idempotent by
   * `event.id`: writing the same id twice keeps one event.
   */
  appendEvent?(event: KeyEvent): Promise<void>;
  /**
   * Optional: moves every event still waiting in a key's outbox (left by a process that died, or a failed
   * write, between the key write and the event log write) to the event log, idempotently. Resolves with
   * how many it moved.
   */
  deliverEvents?(): Promise<number>;
  /** Optional: deletes events older than the store's retention at `now`; resolves with how many. */
  sweepEvents?(now: Date): Promise<number>;
  /**
   * Optional: keys (not deleted, not rolled) with `from < expiresAt <= until`, soonest first, at most
   * `limit`.
   */
  listExpiring?(query: ExpiringQuery): Promise<StoredKey[]>;
  /** Optional: releases timers, feeds and connections the store opened itself. */
  close?(): Promise<void>;
}
