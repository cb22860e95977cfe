import { createHash } from 'node:crypto';
import { BASE62, randomBase62 } from './base62.js';

/** A key id: `key_` and 20 base62 characters. The one definition (schemas and `isKeyId` use it). */
export const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{20}$/;

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

/**
 * A key id that is the same every time for the same `seed`: an imported key's id comes from its import
 * slot, so every attempt of one import names the key, and its `key.imported` event, alike.
 *
 * @example
 * derivedKeyId('import:…'); // "key_…" (20 base62 characters)
 */
export function derivedKeyId(seed: string): string {
  const digest = createHash('sha256').update(`key.id:${seed}`).digest();
  let id = 'key_';
  for (let i = 0; i < 20; i++) id += BASE62[(digest[i] as number) % 62];
  return id;
}
