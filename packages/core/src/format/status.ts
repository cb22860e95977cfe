import type { KeyStatus, StoredKey } from '../shared/types.js';

/** Every key status (`keyStatus` decides between them expired first, then disabled, rolled, active). */
export const KEY_STATUSES = [
  'active',
  'rolled',
  'disabled',
  'expired',
] as const satisfies readonly KeyStatus[];

/**
 * A key's status at `now` (ms), in the documented order: expired, disabled, rolled, active.
 * Expiry is exact: a key is valid while `now < expiresAt`.
 *
 * @example
 * keyStatus(key, Date.now()); // "active"
 */
export function keyStatus(
  key: Pick<StoredKey, 'expiresAt' | 'disabled' | 'rolledAt'>,
  now: number,
): KeyStatus {
  return statusAt(key.expiresAt?.getTime() ?? null, key.disabled, key.rolledAt !== null, now);
}

/** `keyStatus` on plain values (the verify hot path keeps times as numbers). */
export function statusAt(
  expiresAt: number | null,
  disabled: boolean,
  rolled: boolean,
  now: number,
): KeyStatus {
  if (expiresAt !== null && now >= expiresAt) return 'expired';
  if (disabled) return 'disabled';
  if (rolled) return 'rolled';
  return 'active';
}
