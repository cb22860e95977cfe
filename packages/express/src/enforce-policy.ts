import type { Keyward, KeywardError, VerifiedKey, VerifyResult } from '@keyward/core';
import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { checkAccess, clientAddress } from './access-check.js';
import { type CreditCost, chargeCredits } from './credits.js';
import type { KeyLimiter } from './key-limiter.js';
import type { Realm } from './options.js';
import { refusal } from './refusal.js';
import { requestMark } from './request-mark.js';

/**
 * The lineage a request was already counted under, so a second `apiKeyAuth` on its way counts nothing.
 */
const counted = requestMark<string>('counted');

/**
 * The invalid-key throttle's check, before any lookup: a 429 `too_many_invalid_keys` when the client's
 * address is throttled, else `null`. One `Map` read when addresses are throttled, nothing otherwise.
 *
 * @example
 * const throttled = checkThrottle(limiter, req, 'api'); // before verify
 */
export function checkThrottle(limiter: KeyLimiter, req: Request, realm: Realm): KeywardError | null {
  if (!limiter.blocking) return null;
  const until = limiter.throttledUntil(throttleKey(req));
  return until === 0 ? null : throttleRefusal(until, realm);
}

/**
 * After a refusal: counts an `invalid_api_key` against the client's address and answers 429 instead when
 * the address is over the throttle (counted by other instances too); other refusals pass unchanged.
 *
 * @example
 * const answer = await afterRefusal(limiter, req, outcome, 'api');
 */
export function afterRefusal(
  limiter: KeyLimiter,
  req: Request,
  outcome: KeywardError,
  realm: Realm,
): KeywardError | Promise<KeywardError> {
  if (outcome.code !== 'invalid_api_key' || !limiter.throttles) return outcome;
  const noted = limiter.noteInvalidKey(throttleKey(req));
  if (!(noted instanceof Promise)) return noted === 0 ? outcome : throttleRefusal(noted, realm);
  return noted.then((until) => (until === 0 ? outcome : throttleRefusal(until, realm)));
}

/**
 * Contract §6 after state, type and scopes: IP, origin, then limits. `null` admits. A key without policies
 * (`policy === null`, the common case) costs one comparison; one without limits stays synchronous.
 *
 * @example
 * const denied = checkPolicy(limiter, result, key, req, res, 'api');
 */
export function checkPolicy(
  limiter: KeyLimiter,
  result: VerifyResult & { valid: true },
  key: VerifiedKey,
  req: Request,
  res: Response | undefined,
  realm: Realm,
  keyward?: Keyward,
  cost: CreditCost = 1,
): KeywardError | null | Promise<KeywardError | null> {
  const policy = result.policy;
  if (policy === null) return null;
  const denied = checkAccess(policy, key, req, realm);
  if (denied !== null) return denied;
  // Credits last (docs/reference.md §10): a request refused by a limit spends none.
  const credits = policy.credits;
  const charge = (): KeywardError | null | Promise<KeywardError | null> =>
    credits && keyward ? chargeCredits(keyward, credits, cost, req, res, realm) : null;
  if (policy.limits.length === 0) return charge();
  const lineage = policy.lineageId;
  if (counted.get(req, res) === lineage) return charge();
  counted.set(req, res, lineage);
  const limited = limiter.consume(policy, res, realm);
  if (!credits) return limited;
  if (limited instanceof Promise) return limited.then((d) => d ?? charge());
  return limited ?? charge();
}

/** The throttle's key for a client: its address, IPv6 grouped by /56 (express-rate-limit's helper). */
function throttleKey(req: Request): string {
  return ipKeyGenerator(clientAddress(req));
}

function throttleRefusal(until: number, realm: Realm): KeywardError {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  return refusal('too_many_invalid_keys', realm, undefined, { 'Retry-After': String(seconds) });
}
