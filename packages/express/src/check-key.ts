import { isKeywardError, type KeywardError, type VerifiedKey, type VerifyResult } from '@keyward/core';
import type { Request, Response } from 'express';
import type { ResolvedAuth } from './options.js';
import { refusal } from './refusal.js';
import { setRequestKey } from './request-key.js';
import { attachService } from './request-service.js';

/**
 * Decides a request on core's verify result: a refusal, or the key once the route's requirements (type,
 * then scopes: the documented order) hold. The requirements are checked here rather than passed to
 * `verify` because core answers a type or scope refusal without the key's grace period: once the key itself
 * is good, a rolled key's `Sunset` (RFC 8594) and `Deprecation` (RFC 9745) headers are set on `res` at once,
 * so a 403 that follows carries them exactly like the split guards'. Synchronous: the hot path of a cached key never waits.
 */
export function judge(
  auth: ResolvedAuth,
  result: VerifyResult,
  res: Response | undefined,
): VerifiedKey | KeywardError {
  if (!result.valid) return refusal(result.code, auth.realm, result.required);
  const { key, sunsetAt, deprecatedAt } = result;
  if (sunsetAt !== null) res?.setHeader('Sunset', sunsetAt.toUTCString());
  // RFC 9745: `@` and the unix seconds of the roll, since when the token is deprecated.
  if (deprecatedAt) res?.setHeader('Deprecation', `@${Math.floor(deprecatedAt.getTime() / 1000)}`);
  const needs = auth.requirements;
  if (needs === undefined) return key;
  if (needs.type === 'secret' && key.type !== 'secret') return refusal('secret_key_required', auth.realm);
  const scopes = needs.scopes;
  if (scopes !== undefined) {
    for (const scope of scopes) {
      if (!key.scopes.includes(scope)) return refusal('insufficient_scope', auth.realm, scopes);
    }
  }
  return key;
}

/** Whether an outcome is a refusal rather than a passed key. */
export function isRefusal<T>(outcome: T | KeywardError): outcome is KeywardError {
  return isKeywardError(outcome);
}

/** Sets `req.apiKey` and notes which service authenticated it (for `requireScopes`' catalog check). */
export function admit(req: Request, key: VerifiedKey, auth: ResolvedAuth): void {
  setRequestKey(req, key);
  attachService(key, auth.keyward);
}
