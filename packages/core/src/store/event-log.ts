import type { KeyEvent } from '../events/events.js';
import type { EventListQuery } from './store.js';

/** Events are kept this many days unless a store is told otherwise (docs/reference.md §7). */
export const DEFAULT_EVENT_RETENTION_DAYS = 400;

/**
 * Test seams of the two-step move of an event from a key's outbox to the event log: a hook that throws
 * fails that step, as a crash or a lost connection would (the conformance suite uses them).
 */
export interface DeliveryFaults {
  /** Before the event is written to the log. */
  beforeAppend?: (eventId: string) => void | Promise<void>;
  /** After the event is in the log, before it leaves the key's outbox. */
  beforeClear?: (eventId: string) => void | Promise<void>;
}

/** Event options shared by the stores. */
export interface EventStoreOptions {
  /** Events older than this many days are deleted (`sweepEvents`, or a TTL index). @default 400 */
  eventRetentionDays?: number;
  /** Fault injection for tests; see `DeliveryFaults`. */
  faults?: DeliveryFaults;
}

/**
 * The retention in ms from `eventRetentionDays` (a positive number; `TypeError` otherwise).
 *
 * @example
 * retentionMs({ eventRetentionDays: 30 }); // 2592000000
 */
export function retentionMs(options: EventStoreOptions, owner = 'store'): number {
  const days = options.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > 100_000) {
    throw new TypeError(`${owner}: eventRetentionDays must be a positive number of days`);
  }
  return days * 86_400_000;
}

/**
 * Whether `event` belongs on a page of `query` (filters and position; not the limit): the reference
 * semantics of `EventListQuery`.
 *
 * @example
 * events.filter((e) => matchesEventQuery(e, { limit: 50, type: 'key.rolled' }));
 */
export function matchesEventQuery(event: KeyEvent, query: EventListQuery): boolean {
  if (query.after) {
    const at = event.at.getTime();
    const after = query.after.at.getTime();
    if (!(at < after || (at === after && event.id < query.after.id))) return false;
  }
  if (query.keyId !== undefined && event.keyId !== query.keyId) return false;
  if (query.type !== undefined && event.type !== query.type) return false;
  return true;
}

/**
 * Newest first, ties broken by id (descending): the order of every event list.
 *
 * @example
 * events.sort(compareEvents);
 */
export function compareEvents(a: KeyEvent, b: KeyEvent): number {
  return b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/**
 * `MemoryKeyStore`'s event log: events by id (idempotent appends), swept by retention.
 *
 * @example
 * const log = new EventLog({ eventRetentionDays: 30 });
 * await log.append(event);
 */
export class EventLog {
  readonly #events = new Map<string, KeyEvent>();
  readonly #retentionMs: number;
  readonly #faults: DeliveryFaults;

  constructor(options: EventStoreOptions = {}) {
    this.#retentionMs = retentionMs(options, 'MemoryKeyStore');
    this.#faults = options.faults ?? {};
  }

  /** Adds `event` unless its id is there already. */
  async append(event: KeyEvent): Promise<void> {
    await this.#faults.beforeAppend?.(event.id);
    if (!this.#events.has(event.id)) this.#events.set(event.id, structuredClone(event));
  }

  /** The fault seam between the log write and the outbox clear. */
  async beforeClear(eventId: string): Promise<void> {
    await this.#faults.beforeClear?.(eventId);
  }

  list(organizationId: string, query: EventListQuery): KeyEvent[] {
    const events = [...this.#events.values()].filter(
      (e) => e.organizationId === organizationId && matchesEventQuery(e, query),
    );
    events.sort(compareEvents);
    return events.slice(0, query.limit).map((e) => structuredClone(e));
  }

  /** Deletes events older than the retention at `now`. */
  sweep(now: Date): number {
    const horizon = now.getTime() - this.#retentionMs;
    let removed = 0;
    for (const [id, event] of this.#events) {
      if (event.at.getTime() < horizon) {
        this.#events.delete(id);
        removed++;
      }
    }
    return removed;
  }
}
