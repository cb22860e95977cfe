import type { Keyward, KeywardError, VerifiedKey, VerifyRequirements } from '@keyward/core';
import type { NextFunction, Request, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /**
       * The key that authenticated this request, set by `apiKeyAuth()` (or the Keyward Passport strategy):
       * `{ id, organizationId, name, type, scopes }`. Never the token or its hash.
       */
      apiKey?: VerifiedKey;
    }
  }
}

/**
 * Where the key is read from and how 401 challenges look. Shared by `apiKeyAuth` and the Passport strategy.
 *
 * @example
 * apiKeyAuth(keyward, { authorizationHeader: false, apiKeyHeader: 'X-Snippets-Key', realm: 'snippets' });
 */
export interface KeySourceOptions {
  /**
   * Header read as `<name>: Bearer <token>` (scheme case-insensitive), or `false` to ignore it.
   * @default "Authorization"
   */
  authorizationHeader?: string | false;
  /**
   * Header read as `<name>: <token>`, or `false` to ignore it.
   * @default "X-API-Key"
   */
  apiKeyHeader?: string | false;
  /**
   * The `realm` of the `WWW-Authenticate` challenge on 401 answers.
   * @default "api"
   */
  realm?: string;
}

/**
 * What a route asks of the key, checked on the key core's `verify` returns, in the same middleware.
 *
 * @example
 * app.post('/v1/snippets', apiKeyAuth(keyward, { type: 'secret', scopes: ['snippets:write'] }), create);
 */
export interface RouteRequirements {
  /** `'secret'` answers public keys with 403 `secret_key_required`. @default undefined (any key type) */
  type?: 'secret';
  /**
   * Scopes the key must all hold, else 403 `insufficient_scope`. Each must be in the Keyward scope catalog.
   * @default []
   */
  scopes?: readonly string[];
}

/**
 * Takes over the answer to a refused request. The default sends the contract's JSON body, status and
 * `WWW-Authenticate` header; call `next(error)` to hand the error to your Express error handler instead.
 *
 * @example
 * const onError: AuthErrorHandler = (error, req, res) => {
 *   res.status(error.status).set(error.headers).json({ ...error.toJSON(), requestId: req.get('x-request-id') });
 * };
 * app.use('/v1', apiKeyAuth(keyward, { onError }));
 */
export type AuthErrorHandler = (
  error: KeywardError,
  req: Request,
  res: Response,
  next: NextFunction,
) => void | Promise<void>;

/**
 * Options of the route guards `requireScopes` and `requireSecretKey`.
 *
 * @example
 * app.post('/v1/snippets', requireSecretKey({ realm: 'snippets' }), create);
 */
export interface GuardOptions {
  /** The `realm` of the `WWW-Authenticate` challenge when no key was authenticated. @default "api" */
  realm?: string;
  /** Takes over the answer to a refused request. @default sends the contract's JSON answer */
  onError?: AuthErrorHandler;
}

/** Lower-cased header names to read; `null` when that header is turned off. */
export interface KeySource {
  authorization: string | null;
  apiKey: string | null;
}

/** Options resolved once per factory call. */
export interface ResolvedAuth {
  keyward: Keyward;
  source: KeySource;
  realm: string;
  requirements: VerifyRequirements | undefined;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;
// Printable ASCII without `"` and `\`, so the realm can sit inside a quoted-string as is.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

export const SOURCE_OPTIONS = ['authorizationHeader', 'apiKeyHeader', 'realm'] as const;
export const REQUIREMENT_OPTIONS = ['type', 'scopes'] as const;

/** `options` as a plain object with only `allowed` keys, else TypeError. Never mutates `options`. */
export function checkOptionsObject(
  where: string,
  options: unknown,
  allowed: readonly string[],
): Readonly<Record<string, unknown>> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object`);
  }
  for (const name of Object.keys(options)) {
    // An unknown option is most likely a typo (`scope` for `scopes`) that would leave a route unguarded.
    if (!allowed.includes(name)) throw new TypeError(`${where}: unknown option "${name}"`);
  }
  return options as Record<string, unknown>;
}

/** Checks the Keyward service and the shared options; returns the frozen resolved form. */
export function resolveAuth(
  where: string,
  keyward: unknown,
  options: Readonly<Record<string, unknown>>,
): ResolvedAuth {
  const service = checkKeyward(where, keyward);
  const authorization = headerName(
    where,
    'authorizationHeader',
    options.authorizationHeader,
    'authorization',
  );
  const apiKey = headerName(where, 'apiKeyHeader', options.apiKeyHeader, 'x-api-key');
  if (authorization === null && apiKey === null) {
    throw new TypeError(`${where}: authorizationHeader and apiKeyHeader cannot both be false`);
  }
  if (authorization === apiKey) {
    throw new TypeError(`${where}: authorizationHeader and apiKeyHeader must be different headers`);
  }
  return Object.freeze({
    keyward: service,
    source: Object.freeze({ authorization, apiKey }),
    realm: resolveRealm(where, options.realm),
    requirements: resolveRequirements(where, service, options.type, options.scopes),
  });
}

/** The guards' options, resolved; `onError` defaults to `fallback`. */
export function resolveGuard(where: string, options: unknown, fallback: AuthErrorHandler) {
  const checked = checkOptionsObject(where, options, ['realm', 'onError']);
  return Object.freeze({
    realm: resolveRealm(where, checked.realm),
    onError: resolveOnError(where, checked.onError, fallback),
  });
}

export function resolveOnError(where: string, value: unknown, fallback: AuthErrorHandler): AuthErrorHandler {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw new TypeError(`${where}: onError must be a function`);
  return value as AuthErrorHandler;
}

export function resolveRealm(where: string, value: unknown): string {
  if (value === undefined) return 'api';
  if (typeof value !== 'string' || !REALM.test(value)) {
    throw new TypeError(`${where}: realm must be 1-100 printable ASCII characters without '"' or '\\'`);
  }
  return value;
}

/** A frozen, de-duplicated copy of a scope list; each a non-empty string (and in `catalog` when given). */
export function resolveScopes(
  where: string,
  value: unknown,
  catalog?: ReadonlySet<string>,
): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new TypeError(`${where}: scopes must be an array of scope names`);
  }
  const unknown = catalog ? list.find((s) => !catalog.has(s)) : undefined;
  if (unknown !== undefined)
    throw new TypeError(`${where}: unknown scope "${unknown}" (not in the Keyward scopes)`);
  return Object.freeze([...new Set<string>(list)]);
}

/** `keyward` as a Keyward service, else TypeError naming `what` (the argument or option). */
export function checkKeyward(where: string, keyward: unknown, what = 'the first argument'): Keyward {
  const candidate = keyward as Partial<Keyward> | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.verify !== 'function' ||
    !(candidate.scopes?.catalog instanceof Set)
  ) {
    throw new TypeError(`${where}: ${what} must be a Keyward service from createKeyward()`);
  }
  return candidate as Keyward;
}

function headerName(where: string, option: string, value: unknown, fallback: string): string | null {
  if (value === undefined) return fallback;
  if (value === false) return null;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new TypeError(`${where}: ${option} must be a header name or false`);
  }
  // Node drops a header of this name from req.headers (it is Object.prototype's setter): the route would
  // answer missing_api_key to every request.
  if (value.toLowerCase() === '__proto__') throw new TypeError(`${where}: ${option} cannot be __proto__`);
  return value.toLowerCase();
}

function resolveRequirements(
  where: string,
  keyward: Keyward,
  type: unknown,
  scopes: unknown,
): VerifyRequirements | undefined {
  if (type !== undefined && type !== 'secret') {
    throw new TypeError(`${where}: type must be 'secret' (any key type is accepted when it is not set)`);
  }
  const required = scopes === undefined ? [] : resolveScopes(where, scopes, keyward.scopes.catalog);
  if (type === undefined && required.length === 0) return undefined;
  return Object.freeze({
    ...(type === undefined ? {} : { type }),
    ...(required.length ? { scopes: required } : {}),
  });
}
