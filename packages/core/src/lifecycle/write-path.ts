import type { EventPublisher } from '../background/event-hooks.js';
import {
  buildKeyEvent,
  derivedEventId,
  type EventContext,
  type KeyEvent,
  type KeyEventDetails,
  type KeyEventType,
  newEventId,
} from '../events/events.js';
import { DuplicateKeyError } from '../shared/errors.js';
import type { StoredKey } from '../shared/types.js';
import type { KeyChanges, KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';

/** The event a change records (built with the write's time). */
export interface ChangeRecord {
  type: KeyEventType;
  keyName: string;
  context: EventContext | undefined;
  changes?: string[];
  /** Fields of the event's type (`reason`, `rolledFrom`, `replacedBy`, …). */
  details?: KeyEventDetails;
}

/**
 * Conditions of a change asked by the caller (HTTP `If-Match`): with `ifVersion`, the change happens only
 * if the key's `version` is still this one when it is written — the check is the guarded write's own
 * condition, not a read before it — and is refused with 412 `precondition_failed` otherwise.
 */
export interface WriteConditions {
  ifVersion?: number;
}

/** What the write path needs of the service. */
export interface WritePathDeps {
  store: KeyStore;
  clock: () => number;
  /** Drops the key from this instance's cache. */
  invalidate: (id: string) => void;
  publisher: EventPublisher;
}

/**
 * The service's only way to write keys: `insert` / `insertMany` for new keys, `change` for every change
 * of an existing one (update, disable, delete, roll with its successor). Each is one store write that
 * carries its event; the local cache forgets the key whatever happens, also when the store throws half-way
 * (a write that may have landed must not leave this instance answering from the old state), and an event
 * is handed to `onEvent` only once its write is known to have happened.
 */
export function createWritePath({ store, clock, invalidate, publisher }: WritePathDeps) {
  /** Inserts a key; with `type`, its event goes with it (`key.imported` with an id stable across attempts). */
  async function insert(key: StoredKey, type?: KeyEventType, context?: EventContext): Promise<void> {
    const built = type ? buildKeyEvent(type, key, key.createdAt, context) : undefined;
    const event = built?.type === 'key.imported' ? { ...built, id: importEventId(key) } : built;
    try {
      await storeCall('insert', () => store.insert(key, event));
    } finally {
      invalidate(key.id);
    }
    if (event) publisher.publish(event);
  }

  /**
   * `insert` for many keys, each with its `key.imported` event (see `KeyStore.insertMany`): one result per
   * key, `null` when inserted or the duplicate that refused it. Events of inserted keys are published.
   */
  async function insertMany(
    keys: StoredKey[],
    context: EventContext | undefined,
  ): Promise<Array<DuplicateKeyError | null>> {
    // The same id on every attempt: a re-run keeps one event per key.
    const events = keys.map((key) => ({
      ...buildKeyEvent('key.imported', key, key.createdAt, context),
      id: importEventId(key),
    }));
    const outcomes = await insertAll(keys, events);
    outcomes.forEach((duplicate, i) => {
      if (duplicate === null) publisher.publish(events[i] as KeyEvent);
    });
    return outcomes;
  }

  async function insertAll(keys: StoredKey[], events: KeyEvent[]): Promise<Array<DuplicateKeyError | null>> {
    try {
      const bulk = store.insertMany?.bind(store);
      if (bulk) return keys.length === 0 ? [] : await storeCall('insertMany', () => bulk(keys, events));
      const outcomes: Array<DuplicateKeyError | null> = [];
      for (const [i, key] of keys.entries()) {
        try {
          await storeCall('insert', () => store.insert(key, events[i]));
          outcomes.push(null);
        } catch (error) {
          if (!(error instanceof DuplicateKeyError)) throw error;
          outcomes.push(error);
        }
      }
      return outcomes;
    } finally {
      for (const key of keys) invalidate(key.id);
    }
  }

  /**
   * One guarded write of an existing key (`KeyStore.update`): conditional on `version` when given, with the
   * event of `record` and, for a roll, the `successor` inserted by the same write.
   */
  async function change(
    organizationId: string,
    id: string,
    changes: KeyChanges,
    {
      version,
      record,
      successor,
      successorRecord,
    }: {
      version?: number;
      record?: ChangeRecord;
      successor?: StoredKey;
      /** The successor's own event (a roll's `key.created` with `rolledFrom`), written with the change. */
      successorRecord?: ChangeRecord;
    } = {},
  ): Promise<StoredKey | null> {
    const now = new Date(clock());
    // A roll's two events share its instant; of two fresh ids the larger goes to the old key's event, so
    // that lists (newest first, ties by id descending) show the roll above the new key's creation.
    const [low, high] = [newEventId(), newEventId()].sort();
    const pair = successor && successorRecord;
    const event = record && recordEvent(record, { id, organizationId }, now, pair ? high : undefined);
    const successorEvent = pair ? recordEvent(successorRecord, successor, now, low) : undefined;
    let updated: StoredKey | null;
    try {
      updated = await storeCall('update', () =>
        store.update(
          organizationId,
          id,
          { ...changes, updatedAt: now },
          {
            ...(version !== undefined && { version }),
            ...(event && { event }),
            ...(successor && { successor }),
            ...(successorEvent && { successorEvent }),
          },
        ),
      );
    } finally {
      invalidate(id);
      if (successor) invalidate(successor.id);
    }
    // In the log's order read oldest first: the new key's creation, then the roll.
    if (updated && successorEvent) publisher.publish(successorEvent);
    if (updated && event) publisher.publish(event);
    return updated;
  }

  return { insert, insertMany, change };
}

/** The event of `record` for the key `key` at `at`, with the record's details. */
function recordEvent(
  record: ChangeRecord,
  key: { id: string; organizationId: string },
  at: Date,
  id: string = newEventId(),
): KeyEvent {
  const event = buildKeyEvent(
    record.type,
    { id: key.id, organizationId: key.organizationId, name: record.keyName },
    at,
    record.context,
    record.changes,
    id,
  );
  return record.details ? { ...event, ...definedDetails(record.details) } : event;
}

function definedDetails(details: KeyEventDetails): KeyEventDetails {
  return Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined)) as KeyEventDetails;
}

/** The id of an imported key's `key.imported` event: from its import slot, the same on every attempt. */
function importEventId(key: StoredKey): string {
  return derivedEventId(`key.imported:${key.slot}`);
}
