import type { Keyward, KeywardError, UsageOutcome, VerifiedKey, VerifyOptions } from '@keyward/core';

/**
 * How the middleware verifies: core counts the refusals it answers itself (disabled, expired), and the
 * middleware reports the final outcome of every key core admits with `reportOutcome`, once it has judged
 * type, scopes, IP, origin and limits (docs/reference.md §9: one count per request, under its final outcome).
 */
export const COUNT_REFUSALS: VerifyOptions = Object.freeze({ count: 'refusals' });

/**
 * Requests whose key was reported admitted, by key id: a request through two guards (`app.use('/v1',
 * apiKeyAuth(kw))` and a route's own `apiKeyAuth(kw, { scopes })`) is counted once. A WeakMap rather than a
 * property on `req`, which would change the shape of Express's request object on the hot path; it holds
 * nothing past a request's life (weak keys), so it is no state shared between requests.
 */
const ADMITTED = Symbol.for('keyward.express.admitted');
const shared = globalThis as { [ADMITTED]?: WeakMap<object, string> };
// One map for the ESM and the CommonJS build (a request may pass guards of both).
const admitted: WeakMap<object, string> = shared[ADMITTED] ?? new WeakMap();
shared[ADMITTED] = admitted;

/**
 * Reports the final outcome of a request whose key core admitted: `admitted` (`null`), or the refusal
 * the middleware answered. A second guard on the same request counts nothing more when it admits too, and
 * moves the count from admitted to its refusal when it refuses.
 *
 * @example
 * reportOutcome(keyward, req, key, denied); // denied: KeywardError | null
 */
export function reportOutcome(
  keyward: Keyward,
  req: object | undefined,
  key: VerifiedKey,
  outcome: KeywardError | null,
): void {
  const earlier = req === undefined ? undefined : admitted.get(req);
  if (earlier === key.id) {
    if (outcome !== null) keyward.recordOutcome(key, outcome.code as UsageOutcome, { replaces: 'admitted' });
    return;
  }
  if (outcome === null) {
    if (req !== undefined) admitted.set(req, key.id);
    keyward.recordOutcome(key, 'admitted');
  } else keyward.recordOutcome(key, outcome.code as UsageOutcome);
}
