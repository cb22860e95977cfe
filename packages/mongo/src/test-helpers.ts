import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';
import type { StoredKey } from '@keyward/core/store';
import { seededRandom } from '@keyward/core/testing';

/** A collection name of its own for one test, e.g. `keys_3f9a0c1d2e4b`. */
export function uniqueCollection(prefix = 'keys'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** An organization id of its own for one test. */
export function uniqueOrganization(): string {
  return `org_${randomBytes(6).toString('hex')}`;
}

/**
 * A seeded random source for one test file's random choices (where in a poll cycle a write starts, which
 * keys to pick): the seed is printed, and `KEYWARD_RACES_SEED=<seed>` replays the same choices.
 */
export function seededRandomFor(file: string): () => number {
  const given = process.env.KEYWARD_RACES_SEED;
  const seed = given === undefined || given === '' ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  if (!Number.isSafeInteger(seed))
    throw new TypeError(`KEYWARD_RACES_SEED must be an integer, not "${given}"`);
  console.log(`[${file}] seed ${seed} (replay with KEYWARD_RACES_SEED=${seed})`);
  return seededRandom(seed);
}

/** `KEYWARD_SLOW=1`: run the measurements (minutes on FerretDB) that the default suite leaves out. */
export const SLOW = process.env.KEYWARD_SLOW === '1';

/**
 * Calls `check` every `intervalMs` until it returns true; resolves with the ms it took, or `null` when
 * `timeoutMs` passed first. Used to wait for an outcome with a deadline, never as a bare sleep.
 */
export async function pollUntil(
  check: () => Promise<boolean> | boolean,
  { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number },
): Promise<number | null> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start >= timeoutMs) return null;
    await delay(intervalMs);
  }
}

/** The `p`-th percentile (0–100) of `values`, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Milliseconds, rounded for log lines. */
export function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(0);
}

/** Everything an error would show in a log: message, stack, own fields and the whole cause chain. */
export function everythingShownBy(error: unknown): string {
  const parts = [inspect(error, { depth: 20, breakLength: Number.POSITIVE_INFINITY })];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 20; e = e.cause, depth++) {
    parts.push(String(e), e.message, e.stack ?? '');
    const json = (e as { toJSON?: () => unknown }).toJSON;
    if (typeof json === 'function') parts.push(JSON.stringify(json.call(e)));
  }
  return parts.join('\n');
}

/** A raw key document as `MongoKeyStore` writes it: `id` becomes `_id`; last use is kept elsewhere. */
export function toRawDocument(key: StoredKey): Record<string, unknown> & { _id: string; hash: string } {
  const { id, lastUsedAt: _lastUsedAt, ...rest } = key;
  return { _id: id, ...rest };
}

type Subscribable = { subscribe(listener: (event: { id: string } | { reset: true }) => void): () => void };

/**
 * Records the key ids `store`'s change feed announces from now on; `waitFor(id)` resolves once `id` was
 * announced (or rejects after `timeoutMs`). Start it before the write, so no announcement is missed:
 * e.g. to know a fresh key's own insert has gone through the feed before an instance caches it.
 */
export function recordAnnouncements(store: Subscribable) {
  const seen = new Set<string>();
  const waiting = new Map<string, () => void>();
  const unsubscribe = store.subscribe((event) => {
    if (!('id' in event)) return;
    seen.add(event.id);
    waiting.get(event.id)?.();
  });
  return {
    waitFor(id: string, timeoutMs = 5_000): Promise<void> {
      if (seen.has(id)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`the change feed did not announce ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(id, () => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve();
        });
      });
    },
    stop: unsubscribe,
  };
}
