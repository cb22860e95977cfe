import { LRUCache } from 'lru-cache';
import { buildKeyEvent, hourlyEventId, type KeyEvent } from '../events/events.js';
import { log } from '../shared/logger.js';
import type { Clock, VerifiedKey } from '../shared/types.js';
import type { KeyStore } from '../store/store.js';

/** At most one `key.used_after_roll` event per key per this many ms (docs/reference.md §7: an hour). */
export const ROLL_USE_INTERVAL_MS = 3_600_000;

/**
 * Notes uses of rolled keys in their grace period as `key.used_after_roll` events, off the request path
 * (like `lastUsedAt`): at most once an hour per key on this instance, and, because the event id is derived
 * from the key and the clock hour, at most one per key and clock hour across instances. `note` never
 * waits; the write and `onEvent` happen on a later tick; failures are logged and dropped.
 *
 * @example
 * const rollUses = new RollUseRecorder(store, Date.now, (event) => publisher.publish(event));
 * rollUses.note(verifiedKey);
 */
export class RollUseRecorder {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #notify: (event: KeyEvent) => void;
  readonly #lastNoted = new LRUCache<string, number>({ max: 100_000 });
  #writing: Promise<void> = Promise.resolve();

  constructor(store: KeyStore, clock: Clock, notify: (event: KeyEvent) => void) {
    this.#store = store;
    this.#clock = clock;
    this.#notify = notify;
  }

  /** A use of the rolled key `key` now. */
  note(key: VerifiedKey): void {
    const append = this.#store.appendEvent;
    if (!append) return;
    const now = this.#clock();
    const last = this.#lastNoted.get(key.id);
    if (last !== undefined && now - last < ROLL_USE_INTERVAL_MS) return;
    this.#lastNoted.set(key.id, now);
    const at = new Date(now);
    const event = buildKeyEvent(
      'key.used_after_roll',
      key,
      at,
      { actor: { type: 'api_key', id: key.id } },
      undefined,
      hourlyEventId(key.id, at),
    );
    this.#writing = this.#writing
      .then(() => append.call(this.#store, event))
      .then(
        () => this.#notify(event),
        (error: unknown) => log('recording a use of a rolled key failed: %s', (error as Error)?.name),
      );
  }

  /** Resolves once every noted use is written (or has failed). */
  flush(): Promise<void> {
    return this.#writing;
  }
}
