import { randomBytes } from 'node:crypto';

/** The base62 alphabet of docs/reference.md §1, in its order: `0-9`, `A-Z`, `a-z`. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// 248 = 4 * 62: bytes at or above it are dropped so every character is equally likely.
const UNBIASED_LIMIT = 248;

/** `length` base62 characters from the OS CSPRNG, without modulo bias. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length + 8)) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** An unsigned integer in base62, most significant digit first, left-padded with `0` to `width`. */
export function encodeBase62(value: number, width: number): string {
  let out = '';
  let rest = value;
  do {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(width, '0');
}

/** Whether every character of `text` is in the base62 alphabet. */
export function isBase62(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (!digit && !upper && !lower) return false;
  }
  return true;
}

/**
 * The value (0–61) of each base62 character code below 128, -1 for every other code: one typed-array read
 * per character on the verify hot path.
 */
export const BASE62_DIGITS: Readonly<Int8Array> = (() => {
  const digits = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE62.length; i++) digits[BASE62.charCodeAt(i)] = i;
  return digits;
})();
