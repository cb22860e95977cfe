import { type EventActor, isKeyward, type Keyward } from '@keyward/core';
import type { Request } from 'express';
import type { Store } from 'express-rate-limit';
import { DEFAULT_OPENAPI_SECURITY, type OpenApiSecurity } from './openapi.js';
import { DEFAULT_WRITES_PER_MINUTE } from './write-limit.js';

/**
 * What `authorize` answers:
 * - `{ organizationId, actor? }` — the caller may manage that organization's keys; `actor` names them in
 *   audit events (`{ type: 'user' | 'api_key' | 'system', id }`, default `{ type: 'user', id: 'unknown' }`);
 * - `'forbidden'` — the caller is known but may not manage keys: 403 `forbidden`;
 * - `null` (or `'unauthorized'`) — nobody is signed in: 401 `unauthorized`.
 *
 * Anything else (`undefined`, an empty or non-string `organizationId`, …) is refused with 401 too.
 *
 * @example
 * const answer: AuthorizeResult = user ? (user.isAdmin ? { organizationId: user.orgId } : 'forbidden') : null;
 */
export type AuthorizeResult =
  | {
      organizationId: string;
      actor?: EventActor;
      /**
       * `true` when the caller is the app's operator (its own staff), who may set a key's `plan` and
       * `credits` (docs/reference.md §10). Customers may not: `plan` in their bodies is 400, `PUT` and `DELETE
       * /:id/credits` are 403. @default false
       */
      operator?: boolean;
    }
  | 'forbidden'
  | 'unauthorized'
  | null;

/**
 * Says who the caller is and which organization they act for. It may be async. Throwing a
 * `KeywardError('unauthorized' | 'forbidden')`, or an HTTP error with status 401 or 403 (e.g. from
 * `http-errors`), works like returning the refusal; throwing anything else answers 500 `internal_error`
 * (no access, nothing leaked).
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
  /**
   * Other origins whose pages may change keys through this router, e.g. a dashboard on
   * `https://admin.example.com` calling an API on `https://api.example.com` (with your own CORS set-up).
   * Exact origins — scheme, host and port only, lower case, no path or trailing slash. A `POST`, `PATCH`
   * or `DELETE` whose `Origin` is neither the request's own origin nor one of these, or whose
   * `Sec-Fetch-Site` says another site sent it, is refused with 403 `forbidden`.
   * @default []
   */
  trustedOrigins?: readonly string[];
  /**
   * The most admin writes (`POST`, `PATCH`, `DELETE`) one organization — as `authorize` names it — may make
   * per minute; more are refused with 429 `too_many_requests` and `Retry-After`, before their body is
   * read. A positive integer, or `false` for no cap. Counted per process unless `writeLimitStore` is set.
   * @default 120
   */
  writesPerMinute?: number | false;
  /**
   * Where the write counts live: any express-rate-limit `Store` (e.g. rate-limit-redis's `RedisStore`), so
   * that several instances share one cap. @default express-rate-limit's `MemoryStore` (per process)
   */
  writeLimitStore?: Store;
  /**
   * What the served OpenAPI document (`GET <mount>/openapi.json`) says about the app: `security` is how
   * callers authenticate — `{ type: 'cookie', name }` with the app's session cookie name, or
   * `{ type: 'bearer', bearerFormat?: 'JWT' }` for apps that sign in with a token in `Authorization`.
   * @default { security: { type: 'cookie', name: 'connect.sid' } }
   */
  openapi?: { security?: OpenApiSecurity };
  /**
   * The scopes customers may grant to keys through this router (docs/reference.md §10): a create or update naming
   * any other scope is refused with 400 `validation_error`, and a create without `scopes` gets the
   * grantable ones of its type's defaults. Each must be in the service's catalog. Unset: every scope of
   * the catalog.
   */
  grantableScopes?: readonly string[];
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
  trustedOrigins: readonly string[];
  /** `false` when writes are not capped. */
  writesPerMinute: number | false;
  writeLimitStore: Store | undefined;
  openapi: { security: OpenApiSecurity };
  /** `null`: every scope of the catalog. */
  grantableScopes: ReadonlySet<string> | null;
}

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
  if (!isKeyward(keyward)) {
    throw new TypeError('Keyward admin: options.keyward must be a Keyward service (createKeyward(...))');
  }
  if (typeof authorize !== 'function') {
    throw new TypeError(
      'Keyward admin: options.authorize(req) is required; it returns { organizationId } or a refusal',
    );
  }
  return {
    keyward,
    authorize,
    trustedOrigins: resolveTrustedOrigins(options.trustedOrigins),
    writesPerMinute: resolveWritesPerMinute(options.writesPerMinute),
    writeLimitStore: resolveWriteLimitStore(options.writeLimitStore),
    openapi: { security: resolveSecurity(options.openapi) },
    grantableScopes: resolveGrantable(options.grantableScopes, keyward),
  };
}

function resolveWritesPerMinute(value: unknown): number | false {
  if (value === undefined) return DEFAULT_WRITES_PER_MINUTE;
  if (value === false) return false;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(
      'Keyward admin: options.writesPerMinute must be a positive integer (writes per organization per minute) or false',
    );
  }
  return value;
}

function resolveWriteLimitStore(value: unknown): Store | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Store).increment !== 'function') {
    throw new TypeError('Keyward admin: options.writeLimitStore must be an express-rate-limit Store');
  }
  return value as Store;
}

// A cookie name as RFC 6265 allows it (a token: no separators, spaces or controls).
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function resolveSecurity(openapi: unknown): OpenApiSecurity {
  const security =
    typeof openapi === 'object' && openapi !== null ? (openapi as { security?: unknown }).security : openapi;
  if (security === undefined) return DEFAULT_OPENAPI_SECURITY;
  const value = security as Partial<Record<'type' | 'name' | 'bearerFormat' | 'description', unknown>> | null;
  const description = typeof value?.description === 'string' ? { description: value.description } : {};
  if (value?.type === 'cookie' && typeof value.name === 'string' && COOKIE_NAME.test(value.name)) {
    return Object.freeze({ type: 'cookie', name: value.name, ...description });
  }
  const format = value?.bearerFormat;
  if (value?.type === 'bearer' && (format === undefined || typeof format === 'string')) {
    return Object.freeze({
      type: 'bearer',
      ...(typeof format === 'string' && { bearerFormat: format }),
      ...description,
    });
  }
  throw new TypeError(
    "Keyward admin: options.openapi.security must be { type: 'cookie', name: '<your session cookie>' } or " +
      "{ type: 'bearer', bearerFormat?: 'JWT' }",
  );
}

function resolveGrantable(value: unknown, keyward: Keyward): ReadonlySet<string> | null {
  if (value === undefined) return null;
  if (!Array.isArray(value)) throw new TypeError('Keyward admin: options.grantableScopes must be an array');
  for (const scope of value) {
    if (typeof scope !== 'string' || !keyward.scopes.catalog.has(scope)) {
      throw new TypeError(
        `Keyward admin: options.grantableScopes has ${JSON.stringify(scope)}, which is not in the scope catalog`,
      );
    }
  }
  return new Set(value as string[]);
}

function resolveTrustedOrigins(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new TypeError(
      "Keyward admin: options.trustedOrigins must be an array of origins such as 'https://admin.example.com'",
    );
  }
  return Object.freeze(
    value.map((origin: unknown) => {
      if (typeof origin !== 'string' || !isExactOrigin(origin)) {
        throw new TypeError(
          `Keyward admin: options.trustedOrigins has ${JSON.stringify(origin) ?? String(origin)}, which is not ` +
            "an origin: write scheme://host[:port] in lower case, without a path (e.g. 'https://admin.example.com')",
        );
      }
      return origin;
    }),
  );
}

/** `https://host[:port]` exactly as a browser sends it in `Origin` (so `null`, paths and `*` are not). */
function isExactOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.origin === origin &&
      /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])$/.test(url.hostname)
    );
  } catch {
    return false;
  }
}
