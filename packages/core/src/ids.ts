import { randomBase62 } from './base62.js';

const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{20}$/;

/** A new key id, e.g. `key_3hK9…` (20 random base62 characters). */
export function newKeyId(): string {
  return `key_${randomBase62(20)}`;
}

/**
 * Whether `id` has the shape of a key id; malformed ids never reach the store.
 *
 * @example
 * isKeyId('key_0123456789ABCDEFGHIJ'); // true
 */
export function isKeyId(id: unknown): id is string {
  return typeof id === 'string' && KEY_ID_PATTERN.test(id);
}
