import type { KeyEvent, KeyEventType } from '../events/events.js';
import type { CreditLedgerStore } from '../shared/credit-types.js';
import type { DuplicateKeyError } from '../shared/errors.js';
import type { KeyStatus, KeyType, StoredKey } from '../shared/types.js';
import type { UsageGranularity, UsageOutcome } from '../usage/usage-outcomes.js';

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
    | 'meta'
    | 'owner'
    | 'plan'
    | 'credits'
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
  /** Only keys of this owner (docs/reference.md §10). */
  owner?: { type: 'user' | 'service'; id: string };
  /** The clock reading statuses are judged at. */
  now: Date;
}

/** One key's last use. */
export interface UsageEntry {
  id: string;
  hash: string;
  at: Date;
}

/**
 * How an update is guarded and what goes with it. The update happens only if every condition holds at
 * write time; whatever goes with it (event, successor) exists if and only if the update happened.
 */
export interface UpdateOptions {
  /**
   * Only if the key's `version` is still this one: the state the caller checked is the state it changes
   * (compare-and-set). Without it the update applies to any version.
   */
  version?: number;
  /** The change's audit event: listed (see `listEvents`) if and only if the update happened. */
  event?: KeyEvent;
  /**
   * A key inserted by the same guarded write (the successor of a roll): it exists if and only if the update
   * happened. Its `id`, `hash` or `slot` already taken rejects with `DuplicateKeyError` and changes nothing.
   */
  successor?: StoredKey;
  /**
   * The successor's own event (a roll's `key.created`, with `rolledFrom`): with `successor` only, and
   * listed if and only if the update happened, like `event`.
   */
  successorEvent?: KeyEvent;
}

/** @deprecated the name of `UpdateOptions` before events and successors went with it. */
export type UpdateConditions = UpdateOptions;

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
 * Keys of every organization that are enabled, not rolled and not deleted (`KeyStore.scanKeys`), by id
 * ascending: the dormant-key sweep's walk (docs/reference.md §11).
 */
export interface KeyScanQuery {
  /** Only keys whose id sorts after this one. */
  after?: string;
  /** Only keys of this type. */
  type?: KeyType;
  limit: number;
}

/**
 * A claim of an `Idempotency-Key` (see `KeyStore.claimIdempotency`): one document per organization and
 * idempotency key, inserted before the request's work is done.
 */
export interface IdempotencyRecord {
  /** SHA-256 of the organization and the idempotency key: the record's unique id. */
  id: string;
  /** SHA-256 of the request (route and body): the same key with another request is refused. */
  fingerprint: string;
  /** Random: names this claim, so that only its holder completes or releases it. */
  claim: string;
  /** The answer, encrypted (AES-256-GCM), once the request is done; `null` while it is in progress. */
  response: string | null;
  /** A claim still in progress after this may be taken over (its holder is presumed dead). */
  lockedUntil: Date;
  /** The record is forgotten after this (24 h after the claim). */
  expiresAt: Date;
}

/**
 * Where keys live. Promise-based; misses return `null`; a store that cannot be reached rejects (the
 * service turns that into `KeyStoreUnavailableError`). Deleted keys keep their record with `deletedAt` set:
 * `findByHash` returns them (verify refuses them), `findById` and `list` do not.
 *
 * Writes: `insert` adds a key, and every change of an existing key (update, disable, delete, roll, re-hash)
 * is one guarded write, `update` (or `rehash`): the check (organization, not deleted, `version`) and the
 * write are one step that no other write of that key can interleave with, on every server the store
 * supports. A store that cannot say whether a failed write landed rejects with
 * `KeyStoreUnavailableError` marked `mayHaveApplied`; it then settles the outcome itself, so that
 * `findById` afterwards reads back the final state. Background data (last use) never rewrites the key:
 * nothing but these writes can undo a change.
 *
 * Run `runKeyStoreConformance` from `@keyward/core/testing` against every implementation.
 */
export interface KeyStore extends CreditLedgerStore {
  /**
   * Adds a key; rejects with `DuplicateKeyError` when `id`, `hash` or `slot` already exists. With `event`,
   * the key exists if and only if its event is listed (see `listEvents`), eventually.
   */
  insert(key: StoredKey, event?: KeyEvent): Promise<void>;
  /** The key with this hash, deleted or not. */
  findByHash(hash: string): Promise<StoredKey | null>;
  /**
   * The organization's key with this id, unless deleted, with its `lastUsedAt`. After a write that failed
   * with `mayHaveApplied`, it answers the settled state (waiting briefly for the write to settle).
   */
  findById(organizationId: string, id: string): Promise<StoredKey | null>;
  /** The key holding `slot`, deleted or not (used for default-key idempotency). */
  findBySlot(slot: string): Promise<StoredKey | null>;
  /**
   * The organization's keys that are not deleted, newest first (ties broken by id, descending), with their
   * `lastUsedAt`: all of them without `query`, else one page of them (see `KeyListQuery`).
   */
  list(organizationId: string, query?: KeyListQuery): Promise<StoredKey[]>;
  /**
   * The guarded write: applies `changes` to the organization's key unless it is deleted (or `version`
   * differs), adds 1 to its `version`, and writes `options.event` and `options.successor` with it (see
   * `UpdateOptions`). Returns the updated key, or `null` when nothing matched (nothing was written).
   * A store with a change feed makes the change visible to every subscriber whenever the key changed,
   * even if the call then fails.
   */
  update(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    options?: UpdateOptions,
  ): Promise<StoredKey | null>;

  /**
   * Optional: records last use; each entry sets `lastUsedAt` only if it moves forward. Kept apart from the
   * key's own record (a last-use write never rewrites a key), and shown by `findById` and `list`.
   */
  recordUsage?(entries: ReadonlyArray<UsageEntry>): Promise<void>;
  /**
   * Optional (required for usage counts, docs/reference.md §9): writes usage buckets, each replacing the earlier
   * write of the same bucket by the same instance (see `UsageBucket`). Never writes a key's own record.
   * A bucket whose retention has passed (`USAGE_RETENTION_MS`) may be dropped.
   */
  recordOutcomes?(buckets: ReadonlyArray<UsageBucket>): Promise<void>;
  /**
   * Optional (with `recordOutcomes`): the organization's buckets of `query.granularity` with
   * `from <= at < to`, one row per key and bucket with the counts of every instance summed; buckets
   * nothing was counted in may be left out. Any order.
   */
  readUsage?(query: UsageReadQuery): Promise<UsageRow[]>;
  /** Optional: deletes usage buckets whose retention ended before `now`; resolves with how many. */
  sweepUsage?(now: Date): Promise<number>;
  /**
   * Optional (docs/reference.md §10, with `setOrganizationPlan`): the plan an organization is on, from a small
   * per-organization document; `null` when it has none (or the organization is unknown).
   */
  getOrganizationPlan?(organizationId: string): Promise<string | null>;
  /**
   * Optional: sets (or with `null` clears) the organization's plan. A store with `subscribe` announces it
   * with `{ reset: true }` so every instance re-reads the limits of its cached keys.
   */
  setOrganizationPlan?(organizationId: string, plan: string | null): Promise<void>;
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
   * Optional: gives `key` (as read, with its `hash` and `version`) a new hash, as when its token is
   * re-hashed with the current pepper or a SHA-256 import is upgraded: a guarded write like `update`,
   * only if the key still has that hash and version and is not deleted; adds 1 to `version`. Afterwards
   * `findByHash(hash)` returns the key and `findByHash(key.hash)` returns `null`; nothing else about the key
   * changes. Returns the key, or `null` when nothing matched. Rejects with `DuplicateKeyError` when another
   * key holds `hash`. Without it, keys hashed under a previous pepper keep their hash (and keep needing that
   * pepper).
   */
  rehash?(key: StoredKey, hash: string): Promise<StoredKey | null>;
  /** Optional: calls `listener` whenever any key changes, from any process sharing the store. */
  subscribe?(listener: KeyChangeListener): () => void;
  /**
   * Optional (required for audit events): one page of the organization's event log (see `EventListQuery`).
   * An event of a write that has not settled yet is listed once it has. Events past the store's retention
   * may be left out.
   */
  listEvents?(organizationId: string, query: EventListQuery): Promise<KeyEvent[]>;
  /**
   * Optional: writes an event that goes with no change of a key (`key.used_after_roll`). Idempotent by
   * `event.id`: writing the same id twice keeps one event.
   */
  appendEvent?(event: KeyEvent): Promise<void>;
  /**
   * Optional: settles writes left half-way (by a process that died, or a failed event write): each such
   * write is completed with its event, idempotently. Resolves with how many it settled.
   */
  deliverEvents?(): Promise<number>;
  /** Optional: deletes events older than the store's retention at `now`; resolves with how many. */
  sweepEvents?(now: Date): Promise<number>;
  /**
   * Optional: keys (not deleted, not rolled) with `from < expiresAt <= until`, soonest first, at most
   * `limit`.
   */
  listExpiring?(query: ExpiringQuery): Promise<StoredKey[]>;
  /**
   * Optional (required for `dormantAfterDays`): one page of `KeyScanQuery`, each key with its
   * `lastUsedAt`.
   */
  scanKeys?(query: KeyScanQuery): Promise<StoredKey[]>;
  /**
   * Optional (with `completeIdempotency` and `releaseIdempotency`; required for `Idempotency-Key`): inserts
   * `record` (its `response` `null`) unless a live record with its `id` exists — one atomic insert of a
   * unique id, so that of concurrent claims exactly one wins. A record is dead once `expiresAt <= now`, or
   * while it has no `response` once `lockedUntil <= now`; a dead record is replaced. Resolves with `null`
   * when `record` was inserted (the caller holds the claim), else with the live record.
   */
  claimIdempotency?(record: IdempotencyRecord, now: Date): Promise<IdempotencyRecord | null>;
  /** Optional: sets the `response` of the record `id` if `claim` still holds it. */
  completeIdempotency?(id: string, claim: string, response: string): Promise<void>;
  /** Optional: deletes the record `id` if `claim` still holds it (its request failed: it may be retried). */
  releaseIdempotency?(id: string, claim: string): Promise<void>;
  /**
   * Optional: how many keys the organization has that are not deleted (rolled ones included). Used for the
   * per-organization cap on keys (`maxKeysPerOrganization`); without it the cap is not enforced.
   */
  countKeys?(organizationId: string): Promise<number>;
  /** Optional: releases timers, feeds and connections the store opened itself. */
  close?(): Promise<void>;
}

/**
 * One instance's counts of one key in one bucket (`UsageBucket`s are written by `KeyStore.recordOutcomes`).
 * `counts` are the instance's running totals for that bucket, not increments: writing the same bucket
 * again (same `keyId`, `granularity`, `at` and `instanceId`) replaces the earlier write. Only the instance
 * named by `instanceId` ever writes its buckets, so no two writers meet on one record.
 */
export interface UsageBucket {
  keyId: string;
  organizationId: string;
  granularity: UsageGranularity;
  /** The bucket's start (UTC, aligned to its granularity). */
  at: Date;
  /** The writing service instance (random per service). */
  instanceId: string;
  counts: Partial<Record<UsageOutcome, number>>;
}

/** What `KeyStore.readUsage` reads: one organization's buckets with `from <= at < to`. */
export interface UsageReadQuery {
  organizationId: string;
  /** Only this key's buckets. */
  keyId?: string;
  granularity: UsageGranularity;
  from: Date;
  to: Date;
}

/** Counts of one key in one bucket, summed over every instance that wrote it. */
export interface UsageRow {
  keyId: string;
  at: Date;
  counts: Partial<Record<UsageOutcome, number>>;
}
