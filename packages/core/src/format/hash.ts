import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Turns a token into the hex string keys are looked up by. */
export type TokenHasher = (token: string) => string;

/**
 * `HMAC-SHA-256(pepper, token)` as hex, or plain SHA-256 when there is no pepper (docs/reference.md §1).
 *
 * @example
 * const hash = createTokenHasher(process.env.KEYWARD_PEPPER);
 * hash(token); // 64 hex characters
 */
export function createTokenHasher(pepper?: string | Uint8Array): TokenHasher {
  if (pepper === undefined) return (token) => createHash('sha256').update(token, 'utf8').digest('hex');
  const secret = Buffer.from(pepper);
  return (token) => createHmac('sha256', secret).update(token, 'utf8').digest('hex');
}

/**
 * Constant-time equality of two strings (false when lengths differ, without early exit on content).
 *
 * @example
 * safeEqual(storedHash, computedHash);
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}
