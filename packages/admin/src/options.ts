import type { Keyward } from '@keyward/core';
import type { Request } from 'express';

/**
 * What `authorize` answers:
 * - `{ organizationId }` — the caller may manage that organization's keys;
 * - `'forbidden'` — the caller is known but may not manage keys: 403 `forbidden`;
 * - `null` (or `'unauthorized'`) — nobody is signed in: 401 `unauthorized`.
 *
 * Anything else (`undefined`, an empty or non-string `organizationId`, …) is refused with 401 too.
 *
 * @example
 * const answer: AuthorizeResult = user ? (user.isAdmin ? { organizationId: user.orgId } : 'forbidden') : null;
 */
export type AuthorizeResult = { organizationId: string } | 'forbidden' | 'unauthorized' | null;

/**
 * Says who the caller is and which organization they act for. It may be async. Throwing a
 * `KeywardError('unauthorized' | 'forbidden')` works like returning the refusal; throwing anything else
 * answers 500 `internal_error` (no access, nothing leaked).
 *
 * @example
 * const authorize: Authorize = (req) => (req.session?.orgId ? { organizationId: req.session.orgId } : null);
 */
export type Authorize = (req: Request) => AuthorizeResult | Promise<AuthorizeResult>;

/**
 * Options of `createAdminRouter`.
 *
 * @example
 * const options: AdminRouterOptions = { keyward, authorize: (req) => ({ organizationId: req.user.orgId }) };
 */
export interface AdminRouterOptions {
  /** The Keyward service (`createKeyward(...)`) whose keys the router manages. */
  keyward: Keyward;
  /** Decides, for every request, which organization the caller acts for, or refuses. Required. */
  authorize: Authorize;
}

/**
 * The options after validation; built once by the factory.
 *
 * @example
 * const resolved: ResolvedAdminOptions = resolveAdminOptions(options);
 */
export interface ResolvedAdminOptions {
  keyward: Keyward;
  authorize: Authorize;
}

const SERVICE_METHODS = ['listKeys', 'getKey', 'createKey', 'updateKey', 'rollKey', 'deleteKey'] as const;

/**
 * Validates the options once (a wrong option throws `TypeError` at start-up); never mutates them.
 *
 * @example
 * const { keyward, authorize } = resolveAdminOptions({ keyward, authorize: () => null });
 */
export function resolveAdminOptions(options: AdminRouterOptions): ResolvedAdminOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Keyward admin: options { keyward, authorize } are required');
  }
  const { keyward, authorize } = options;
  if (
    typeof keyward !== 'object' ||
    keyward === null ||
    SERVICE_METHODS.some((m) => typeof keyward[m] !== 'function')
  ) {
    throw new TypeError('Keyward admin: options.keyward must be a Keyward service (createKeyward(...))');
  }
  if (typeof authorize !== 'function') {
    throw new TypeError(
      'Keyward admin: options.authorize(req) is required; it returns { organizationId } or a refusal',
    );
  }
  return { keyward, authorize };
}
