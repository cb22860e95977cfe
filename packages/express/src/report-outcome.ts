import type { Keyward, KeywardError, UsageOutcome, VerifiedKey, VerifyOptions } from '@keyward/core';
import type { Response } from 'express';
import { requestMark } from './request-mark.js';

/**
 * How the middleware verifies: core counts the refusals it answers itself (disabled, expired), and the
 * middleware reports the final outcome of every key core admits with `reportOutcome`, once it has judged
 * type, scopes, IP, origin and limits (docs/reference.md §9: one count per request, under its final outcome).
 */
export const COUNT_REFUSALS: VerifyOptions = Object.freeze({ count: 'refusals' });

/**
 * The key a request was reported admitted under: a request through two guards (`app.use('/v1',
 * apiKeyAuth(kw))` and a route's own `apiKeyAuth(kw, { scopes })`) is counted once.
 */
const admitted = requestMark<string>('admitted');

/**
 * Reports the final outcome of a request whose key core admitted: `admitted` (`null`), or the refusal
 * the middleware answered. A second guard on the same request counts nothing more when it admits too, and
 * moves the count from admitted to its refusal when it refuses.
 *
 * @example
 * reportOutcome(keyward, req, res, key, denied); // denied: KeywardError | null
 */
export function reportOutcome(
  keyward: Keyward,
  req: object | undefined,
  res: Response | undefined,
  key: VerifiedKey,
  outcome: KeywardError | null,
): void {
  const earlier = admitted.get(req, res);
  if (earlier === key.id) {
    if (outcome !== null) keyward.recordOutcome(key, outcome.code as UsageOutcome, { replaces: 'admitted' });
    return;
  }
  if (outcome === null) {
    admitted.set(req, res, key.id);
    keyward.recordOutcome(key, 'admitted');
  } else keyward.recordOutcome(key, outcome.code as UsageOutcome);
}
