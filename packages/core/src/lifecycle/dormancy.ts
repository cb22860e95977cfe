import { buildKeyEvent, derivedEventId, type EventContext, type KeyEvent } from '../events/events.js';
import { keyStatus } from '../format/status.js';
import { log } from '../shared/logger.js';
import type { Clock, KeyType, StoredKey } from '../shared/types.js';
import type { KeyChanges, KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';
import type { ChangeRecord } from './write-path.js';

const DAY_MS = 86_400_000;
/** `key.dormant_soon` is recorded this many days before a key is disabled as dormant (docs/reference.md §11). */
export const DORMANT_SOON_DAYS = 7;
/** The longest `dormantAfterDays`, in days (100 years). */
const MAX_DORMANT_DAYS = 36_500;
const NOTICE_MS = DORMANT_SOON_DAYS * DAY_MS;
/** Keys read per page by a sweep. */
const SWEEP_PAGE = 200;
/** How often the service sweeps by default (`dormancySweepIntervalMs`). */
export const DEFAULT_DORMANCY_SWEEP_INTERVAL_MS = 3_600_000;

/** The `reason` of the events of a dormant key. */
export const DORMANT_REASON = 'dormant';

/** The actor of a dormant key's events: the service itself. */
export const DORMANCY_ACTOR = Object.freeze({ type: 'system', id: 'dormancy' }) as {
  type: 'system';
  id: string;
};

/**
 * The `dormantAfterDays` option (docs/reference.md §11): keys unused for this many days are disabled by the
 * service; one number for both key types, or one per type (a type left out is never disabled as dormant).
 *
 * @example
 * const dormancy: DormantAfterDaysOption = { secret: 90 };
 */
export type DormantAfterDaysOption = number | { secret?: number; public?: number };

/** `dormantAfterDays` after validation: days per key type, `null` for never. */
export type ResolvedDormancy = Readonly<Record<KeyType, number | null>>;

/** Checks the option once at start-up; a wrong one throws `TypeError`. */
export function resolveDormancy(option: DormantAfterDaysOption | undefined): ResolvedDormancy {
  if (option === undefined) return { secret: null, public: null };
  const days = (value: unknown, name: string): number | null => {
    if (value === undefined) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DORMANT_DAYS) {
      throw new TypeError(`Keyward: ${name} must be a whole number of days, 1 to ${MAX_DORMANT_DAYS}`);
    }
    return value;
  };
  if (typeof option === 'number') {
    const n = days(option, 'dormantAfterDays');
    return { secret: n, public: n };
  }
  if (typeof option !== 'object' || option === null) {
    throw new TypeError('Keyward: dormantAfterDays must be a number of days or { secret?, public? }');
  }
  for (const name of Object.keys(option)) {
    if (name !== 'secret' && name !== 'public') {
      throw new TypeError(`Keyward: dormantAfterDays.${name} is not a key type (secret, public)`);
    }
  }
  return {
    secret: days(option.secret, 'dormantAfterDays.secret'),
    public: days(option.public, 'dormantAfterDays.public'),
  };
}

/** `dormancySweepIntervalMs`: a positive whole number of ms, or `false` (no timer). */
export function resolveSweepInterval(value: number | false | undefined): number | false {
  if (value === undefined) return DEFAULT_DORMANCY_SWEEP_INTERVAL_MS;
  if (value === false) return false;
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError('Keyward: dormancySweepIntervalMs must be a positive integer or false');
  }
  return value;
}

/**
 * When a key's dormancy clock started: its last use, its creation when never used, or its last change
 * when that is later (re-enabling a key disabled as dormant must not be undone by the next sweep).
 */
export function dormantSince(key: Pick<StoredKey, 'createdAt' | 'updatedAt' | 'lastUsedAt'>): number {
  return Math.max(key.createdAt.getTime(), key.updatedAt.getTime(), key.lastUsedAt?.getTime() ?? 0);
}

/** What one `sweepDormantKeys` did. */
export interface DormancySweep {
  /** Keys looked at (enabled, not rolled, not deleted, of a type with a policy). */
  checked: number;
  /** Keys that got `key.dormant_soon` in this sweep. */
  warned: string[];
  /** Keys this sweep disabled as dormant (`key.disabled`, reason `dormant`). */
  disabled: string[];
}

/** What the sweep needs of the service. */
export interface DormancyDeps {
  store: KeyStore;
  clock: Clock;
  dormancy: ResolvedDormancy;
  /** The write path's guarded write (write-path.ts). */
  change: (
    organizationId: string,
    id: string,
    changes: KeyChanges,
    options: { version: number; record: ChangeRecord },
  ) => Promise<StoredKey | null>;
  /** Hands an event written by `appendEvent` to `onEvent`. */
  publish: (event: KeyEvent) => void;
}

/**
 * The dormant-key sweep (docs/reference.md §11). A key of a type with `dormantAfterDays` whose clock
 * (`dormantSince`) is `DORMANT_SOON_DAYS` short of that gets `key.dormant_soon`, with an id derived from
 * the key and the start of its dormancy clock: every sweep of every instance writes the same id, so the
 * log keeps one per key and dormancy period (`appendEvent` is idempotent by id). Once the clock reaches
 * `dormantAfterDays` and that notice is at least `DORMANT_SOON_DAYS` old, the key is disabled with one
 * guarded write, conditional on the version the sweep read: a concurrent sweep or any newer change of the
 * key wins, and the loser writes nothing and records nothing. A key found dormant without its notice (a
 * policy just turned on, sweeps that did not run) gets the notice first: no key is disabled without a
 * week's notice, when the store keeps events and `dormantAfterDays` is over 7.
 *
 * @example
 * const sweep = createDormancySweep({ store, clock, dormancy, change, publish });
 * const { disabled } = await sweep();
 */
export function createDormancySweep({ store, clock, dormancy, change, publish }: DormancyDeps) {
  /** When this instance knows each `key.dormant_soon` (by id) was recorded (bounded; a miss costs a read). */
  const known = new Map<string, number>();
  const remember = (id: string, at: number) => {
    if (known.size >= 10_000) known.clear();
    known.set(id, at);
  };
  const { appendEvent: append, listEvents } = store;
  /** Whether the store keeps events: then no key is disabled without `DORMANT_SOON_DAYS` of notice. */
  const notices = typeof append === 'function' && typeof listEvents === 'function';

  /**
   * When the key's `key.dormant_soon` of this dormancy period (`since`) was recorded, or `null` when it
   * has not been. Only the newest `key.dormant_soon` of the key can be this period's.
   */
  async function warnedAt(key: StoredKey, id: string): Promise<number | null> {
    const cached = known.get(id);
    if (cached !== undefined) return cached;
    const [last] = await storeCall('listEvents', () =>
      (listEvents as NonNullable<KeyStore['listEvents']>).call(store, key.organizationId, {
        limit: 1,
        keyId: key.id,
        type: 'key.dormant_soon',
      }),
    );
    if (last?.id !== id) return null;
    remember(id, last.at.getTime());
    return last.at.getTime();
  }

  /** Records this period's `key.dormant_soon` (idempotent by id: every instance writes the same one). */
  async function warn(key: StoredKey, id: string, now: number): Promise<void> {
    const event: KeyEvent = {
      ...buildKeyEvent('key.dormant_soon', key, new Date(now), { actor: DORMANCY_ACTOR }, undefined, id),
      reason: DORMANT_REASON,
    };
    await storeCall('appendEvent', () => (append as NonNullable<KeyStore['appendEvent']>).call(store, event));
    // A racing instance may have written it first, at another instant: the log's copy is the one that counts.
    known.delete(id);
    publish(event);
  }

  async function disable(key: StoredKey): Promise<boolean> {
    const context: EventContext = { actor: DORMANCY_ACTOR };
    const done = await change(
      key.organizationId,
      key.id,
      { disabled: true },
      {
        version: key.version,
        record: { type: 'key.disabled', keyName: key.name, context, details: { reason: DORMANT_REASON } },
      },
    );
    return done !== null;
  }

  return async function sweepDormantKeys(): Promise<DormancySweep> {
    const result: DormancySweep = { checked: 0, warned: [], disabled: [] };
    const types = (['secret', 'public'] as const).filter((t) => dormancy[t] !== null);
    if (types.length === 0) return result;
    const scan = store.scanKeys;
    if (!scan) throw new TypeError('Keyward: dormantAfterDays needs a store that implements scanKeys');
    for (const type of types) {
      const limitMs = (dormancy[type] as number) * DAY_MS;
      const warnMs = limitMs - DORMANT_SOON_DAYS * DAY_MS;
      let after: string | undefined;
      for (;;) {
        const page = await storeCall('scanKeys', () =>
          scan.call(store, { type, limit: SWEEP_PAGE, ...(after !== undefined && { after }) }),
        );
        for (const key of page) {
          const now = clock();
          // The store's filter, checked again; expired keys stop working anyway.
          if (key.type !== type || keyStatus(key, now) !== 'active') continue;
          result.checked++;
          const since = dormantSince(key);
          const idle = now - since;
          try {
            if (!notices || warnMs <= 0) {
              // No notice possible (a store without events, or `dormantAfterDays` of 7 or less).
              if (idle >= limitMs && (await disable(key))) result.disabled.push(key.id);
              continue;
            }
            if (idle < warnMs) continue;
            const id = derivedEventId(`key.dormant_soon:${key.id}:${since}`);
            const warned = await warnedAt(key, id);
            if (warned === null) {
              // Day n - 7, or a key found dormant without its notice (a policy just turned on or
              // shortened, sweeps that did not run): the notice now, the disable a week later.
              await warn(key, id, now);
              result.warned.push(key.id);
            } else if (idle >= limitMs && now - warned >= NOTICE_MS && (await disable(key))) {
              result.disabled.push(key.id);
            }
          } catch (error) {
            // One key's failure does not stop the sweep; the next sweep tries it again.
            log('dormancy sweep: key %s not handled (%s)', key.id, (error as Error)?.name);
          }
        }
        const last = page.at(-1);
        if (page.length < SWEEP_PAGE || !last) break;
        after = last.id;
      }
    }
    return result;
  };
}

/**
 * Runs `sweep` every `intervalMs` on an unref'd timer (it never keeps the process alive); rounds never
 * overlap, failures are logged. Answers a stop function.
 *
 * @example
 * const stop = startDormancyTimer(sweep, 3_600_000);
 */
export function startDormancyTimer(sweep: () => Promise<DormancySweep>, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweep()
      .catch((error: unknown) => log('dormancy sweep failed (%s); retried later', (error as Error)?.name))
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
