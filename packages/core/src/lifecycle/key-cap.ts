import { KeywardError } from '../shared/errors.js';
import type { KeyStore } from '../store/store.js';
import { storeCall } from '../store/store-call.js';

/** The most keys (not deleted) one organization may have, by default. */
export const DEFAULT_MAX_KEYS_PER_ORGANIZATION = 1_000;

/** Checks `maxKeysPerOrganization` once at start-up; a wrong one throws `TypeError`. */
export function resolveKeyCap(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_KEYS_PER_ORGANIZATION;
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new TypeError('Keyward: maxKeysPerOrganization must be a positive integer');
  }
  return value as number;
}

/**
 * How many more keys the organization may get (`Infinity` when the store cannot count). The count is read
 * before the insert, not in it: concurrent creates can pass the cap by at most their number (a soft cap
 * against runaway scripts and abuse, not an exact quota).
 */
export async function roomForKeys(store: KeyStore, organizationId: string, cap: number): Promise<number> {
  const countKeys = store.countKeys;
  if (!countKeys) return Number.POSITIVE_INFINITY;
  const count = await storeCall('countKeys', () => countKeys.call(store, organizationId));
  return Math.max(0, cap - count);
}

/** 409 `conflict`: the organization is at its cap. */
export function keyCapReached(cap: number): KeywardError {
  return new KeywardError('conflict', {
    message: `This organization has ${cap.toLocaleString('en-US')} API keys, the most it may have. Delete keys it no longer uses.`,
  });
}
