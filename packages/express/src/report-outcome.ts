import type { Keyward, KeywardError, UsageOutcome, VerifiedKey, VerifyOptions } from '@keyward/core';

/**
 * How the middleware verifies: core counts the refusals it answers itself (disabled, expired), and the
 * middleware reports the final outcome of every key core admits with `reportOutcome`, once it has judged
 * type, scopes, IP, origin and limits (contract §9: one count per request, under its final outcome).
 */
export const COUNT_REFUSALS: VerifyOptions = Object.freeze({ count: 'refusals' });

/** For a first look that may be followed by a second verify of the same request: counts nothing. */
export const COUNT_NONE: VerifyOptions = Object.freeze({ count: 'none' });

/**
 * Reports the final outcome of a request whose key core admitted: `admitted` (`null`), or the refusal
 * the middleware answered. A counter increment.
 *
 * @example
 * reportOutcome(keyward, key, denied); // denied: KeywardError | null
 */
export function reportOutcome(keyward: Keyward, key: VerifiedKey, outcome: KeywardError | null): void {
  keyward.recordOutcome(key, outcome === null ? 'admitted' : (outcome.code as UsageOutcome));
}
