import type { KeyPolicy, KeywardError, VerifiedKey } from '@keyward/core';
import type { Request } from 'express';
import type { Realm } from './options.js';
import { refusal } from './refusal.js';

/** The longest `Referer` read for its origin; longer ones count as absent. */
const MAX_REFERER = 4096;

/**
 * Contract §6's address and origin checks for a key that passed state, type and scopes: its `allowedIps`
 * against `req.ip` (the app's `trust proxy` decides what that is), then, for public keys, its
 * `allowedOrigins` against `Origin` (or the origin of `Referer` when `Origin` is absent). Synchronous:
 * the key's `net.BlockList` and origin set were compiled once when verify cached it.
 *
 * @example
 * const denied = checkAccess(policy, key, req, 'api'); // null, or a 403 ip_not_allowed / origin_not_allowed
 */
export function checkAccess(
  policy: KeyPolicy,
  key: VerifiedKey,
  req: Request,
  realm: Realm,
): KeywardError | null {
  if (policy.allowedIps.length > 0 && !policy.allowsIp(clientAddress(req))) {
    return refusal('ip_not_allowed', realm);
  }
  if (policy.allowedOrigins.length > 0 && key.type === 'public') {
    const origin = requestOrigin(req);
    if (origin === null || !policy.allowsOrigin(origin)) return refusal('origin_not_allowed', realm);
  }
  return null;
}

/** `req.ip` (Express, after `trust proxy`), else the socket's address, else `''` (matches no rule). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket?.remoteAddress ?? '';
}

/**
 * The browser origin of a request: `Origin` as sent (also `null` from sandboxed frames, which matches no
 * allowed origin), else the origin of `Referer`, else `null`. Never throws on hostile values.
 */
export function requestOrigin(req: Request): string | null {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin.length > 0) return origin;
  const referer = req.headers.referer;
  if (typeof referer !== 'string' || referer.length === 0 || referer.length > MAX_REFERER) return null;
  if (!URL.canParse(referer)) return null;
  const parsed = new URL(referer).origin;
  return parsed === 'null' ? null : parsed;
}
