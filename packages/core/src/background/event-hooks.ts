import { copyKeyEvent, type KeyEvent } from '../events/events.js';
import { log } from '../shared/logger.js';
import type { Clock } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';

/** Options of the event log's background upkeep (`createKeyward({ events })`). */
export interface EventsOptions {
  /**
   * Every this many ms the service moves events left in key outboxes (by a process that died or a store
   * that failed between the key write and the event write) to the event log, and deletes events past the
   * store's retention (the sweep for databases without TTL indexes). The first round runs one interval after
   * start. @default 60000
   */
  maintenanceIntervalMs?: number;
}

/** What one round of upkeep did. */
export interface EventMaintenance {
  /** Events moved from key outboxes to the log. */
  delivered: number;
  /** Events deleted as older than the retention. */
  swept: number;
}

/**
 * Hands events to the app's `onEvent` (a copy each, never awaited by the change, failures logged) and
 * runs the upkeep of the store's event log on a timer.
 *
 * @example
 * const publisher = new EventPublisher(store, Date.now, onEvent, 60_000);
 * publisher.publish(event);
 */
export class EventPublisher {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #onEvent: ((event: KeyEvent) => void | Promise<void>) | undefined;
  #timer: NodeJS.Timeout | null = null;
  /** Rounds of upkeep run one after another, never two at once. */
  #round: Promise<unknown> = Promise.resolve();

  constructor(
    store: KeyStore,
    clock: Clock,
    onEvent: ((event: KeyEvent) => void | Promise<void>) | undefined,
    intervalMs: number,
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#onEvent = onEvent;
    if (store.deliverEvents || store.sweepEvents) {
      // No round at start: on FerretDB (an update is a read plus a whole-document write) a round clearing
      // an outbox it found while the instance's first write was delivering it could undo that instance's
      // next write to the key (CI saw a roll and a disable undone). Outboxes a dead instance left wait for
      // the first interval instead.
      const tick = () => void this.maintain().catch(() => {});
      this.#timer = setInterval(tick, intervalMs);
      this.#timer.unref();
    }
  }

  /** Calls `onEvent` with a copy of `event`; a throw or rejection is logged (its name only). */
  publish(event: KeyEvent): void {
    const hook = this.#onEvent;
    if (!hook) return;
    try {
      const result = hook(copyKeyEvent(event));
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (error: unknown) => failed(event, error));
      }
    } catch (error) {
      failed(event, error);
    }
  }

  /**
   * One round of upkeep: deliver outboxes, then sweep; after any round still running. Store failures are
   * logged and counted as 0.
   */
  maintain(): Promise<EventMaintenance> {
    const round = this.#round.then(() => this.#maintainNow());
    this.#round = round.catch(() => {});
    return round;
  }

  async #maintainNow(): Promise<EventMaintenance> {
    const store = this.#store;
    let delivered = 0;
    let swept = 0;
    try {
      delivered = (await store.deliverEvents?.()) ?? 0;
    } catch (error) {
      log('delivering events from key outboxes failed (%s); retried later', (error as Error)?.name);
    }
    try {
      swept = (await store.sweepEvents?.(new Date(this.#clock()))) ?? 0;
    } catch (error) {
      log('sweeping old events failed (%s); retried later', (error as Error)?.name);
    }
    return { delivered, swept };
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

function failed(event: KeyEvent, error: unknown): void {
  log('onEvent failed for %s %s (%s)', event.type, event.id, (error as Error)?.name ?? typeof error);
}
