import {
  isKeyward,
  type Keyward,
  type KeywardError,
  type VerifiedKey,
  type VerifyRequirements,
} from '@keyward/core';
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
 * Returns the API key of a request from wherever the app's clients send it: a string, `undefined` (or
 * `null`) when there is none, or an array of every value found (two different ones answer 400
 * `conflicting_api_keys`). Synchronous; a throw goes to `next(err)`.
 *
 * @example
 * const getKey: KeyGetter = (req) => req.headers['x-legacy-token'];
 */
export type KeyGetter = (req: Request) => string | readonly (string | undefined)[] | null | undefined;

/**
 * Where the key is read from and how 401 challenges look. Shared by `apiKeyAuth` and the Passport strategy.
 *
 * @example
 * apiKeyAuth(keyward, { authorizationHeader: false, apiKeyHeader: 'X-Snippets-Key', realm: 'snippets' });
 * apiKeyAuth(keyward, { schemes: ['Bearer', 'Api-Key'] }); // also `Authorization: Api-Key <token>`
 */
export interface KeySourceOptions {
  /**
   * Header read as `<name>: <scheme> <token>` (scheme case-insensitive), or `false` to ignore it.
   * @default "Authorization"
   */
  authorizationHeader?: string | false;
  /**
   * Authorization schemes accepted in `authorizationHeader`, compared case-insensitively, e.g.
   * `['Bearer', 'Api-Key']`. `[]` ignores the header, like `authorizationHeader: false` (for apps whose
   * `Authorization` carries their own sign-in token, such as a JWT).
   * @default ["Bearer"]
   */
  schemes?: readonly string[];
  /**
   * Header (or headers) read as `<name>: <token>`, or `false` (or `[]`) to ignore it.
   * @default "X-API-Key"
   */
  apiKeyHeader?: string | readonly string[] | false;
  /**
   * Reads the key yourself instead of the headers above (which cannot be set with it). Spaces and tabs
   * around the value are ignored and an empty value counts as no key, as for headers.
   * @default undefined (the headers above are read)
   */
  getKey?: KeyGetter;
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
 * Takes over the answer to a refused request. The default sends the documented JSON body, status and
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
  /** Takes over the answer to a refused request. @default sends the documented JSON answer */
  onError?: AuthErrorHandler;
}

/** Where to read the key, resolved: lower-cased names, `null` or `[]` for what is turned off. */
export interface KeySource {
  /** The header read as `<scheme> <token>`; `null` when it is not read. */
  authorization: string | null;
  /** Accepted schemes, lower case; not empty when `authorization` is set. */
  schemes: readonly string[];
  /** Headers read as `<token>`. */
  apiKeys: readonly string[];
  /** The app's getter; when set, no header is read. */
  getKey: KeyGetter | null;
}

/**
 * The `WWW-Authenticate` of 401 refusals for an app that reads keys other than as `Bearer` (docs/reference.md
 * §2): one challenge per accepted scheme, or per API-key header when no scheme is. A plain string is the
 * realm of core's default challenge, `Bearer realm="…"`.
 */
export type Realm = string | Challenge;

/** A realm with the challenges built once, by RFC 6750 `error` (`''` for none). */
export interface Challenge {
  readonly realm: string;
  readonly header: Readonly<Record<string, string>>;
}

/** Options resolved once per factory call. */
export interface ResolvedAuth {
  keyward: Keyward;
  source: KeySource;
  realm: Realm;
  requirements: VerifyRequirements | undefined;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;
// Printable ASCII without `"` and `\`, so the realm can sit inside a quoted-string as is.
const REALM = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,100}$/;

export const SOURCE_OPTIONS = ['authorizationHeader', 'schemes', 'apiKeyHeader', 'getKey', 'realm'] as const;
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
  const source = resolveSource(where, options);
  return Object.freeze({
    keyward: service,
    source,
    realm: resolveChallenge(resolveRealm(where, options.realm), source, options),
    requirements: resolveRequirements(where, service, options.type, options.scopes),
  });
}

/** Where the key is read: the getter alone, or the headers and schemes, checked (TypeError). */
function resolveSource(where: string, options: Readonly<Record<string, unknown>>): KeySource {
  if (options.getKey !== undefined) {
    if (typeof options.getKey !== 'function') throw new TypeError(`${where}: getKey must be a function`);
    const mixed = ['authorizationHeader', 'schemes', 'apiKeyHeader'].find((o) => options[o] !== undefined);
    if (mixed !== undefined) {
      throw new TypeError(`${where}: getKey reads the key instead of the headers; remove ${mixed}`);
    }
    return Object.freeze({
      authorization: null,
      schemes: [],
      apiKeys: [],
      getKey: options.getKey as KeyGetter,
    });
  }
  const schemes = resolveSchemes(where, options.schemes);
  let authorization = headerName(where, 'authorizationHeader', options.authorizationHeader, 'authorization');
  if (authorization === null && options.schemes !== undefined && schemes.length > 0) {
    throw new TypeError(`${where}: schemes are read from authorizationHeader, which is false`);
  }
  if (schemes.length === 0) authorization = null;
  const apiKeys = apiKeyHeaders(where, options.apiKeyHeader);
  if (authorization === null && apiKeys.length === 0) {
    throw new TypeError(
      `${where}: no header is left to read the key from (authorizationHeader, schemes, apiKeyHeader)`,
    );
  }
  const names = authorization === null ? apiKeys : [authorization, ...apiKeys];
  if (new Set(names).size !== names.length) {
    throw new TypeError(`${where}: authorizationHeader and apiKeyHeader must be different headers`);
  }
  return Object.freeze({ authorization, schemes, apiKeys, getKey: null });
}

/**
 * What a 401 challenges the client with: core's `Bearer realm="…"` when Bearer is the only scheme (or the app's
 * `getKey` reads the key), else every accepted scheme as configured (`Bearer realm="api", Api-Key
 * realm="api"`; RFC 6750's `error` on the Bearer one only), or, with no scheme, `ApiKey realm="api",
 * header="X-API-Key"` for each API-key header, so a client learns where the key goes.
 */
function resolveChallenge(
  realm: string,
  source: KeySource,
  options: Readonly<Record<string, unknown>>,
): Realm {
  if (source.getKey !== null) return realm;
  if (source.authorization !== null && source.schemes.length === 1 && source.schemes[0] === 'bearer')
    return realm;
  const spelt = (options.schemes as readonly string[] | undefined) ?? ['Bearer'];
  const schemes =
    source.authorization === null
      ? []
      : source.schemes.map((lower) => spelt.find((s) => s.toLowerCase() === lower) ?? lower);
  const configured = options.apiKeyHeader;
  const named = typeof configured === 'string' ? [configured] : Array.isArray(configured) ? configured : [];
  const headers = source.apiKeys.map(
    (lower) =>
      (named as string[]).find((n) => n.toLowerCase() === lower) ??
      (lower === 'x-api-key' ? 'X-API-Key' : lower),
  );
  const build = (error: string) =>
    schemes.length > 0
      ? schemes
          .map((scheme) =>
            scheme.toLowerCase() === 'bearer' && error !== ''
              ? `${scheme} realm="${realm}", error="${error}"`
              : `${scheme} realm="${realm}"`,
          )
          .join(', ')
      : headers.map((name) => `ApiKey realm="${realm}", header="${name}"`).join(', ');
  return Object.freeze({
    realm,
    header: Object.freeze({ '': build(''), invalid_token: build('invalid_token') }),
  });
}

/** The accepted schemes, lower case and de-duplicated; each an HTTP token (RFC 9110 auth-scheme). */
function resolveSchemes(where: string, value: unknown): readonly string[] {
  if (value === undefined) return BEARER_ONLY;
  if (!Array.isArray(value) || !value.every((s) => typeof s === 'string' && HEADER_NAME.test(s))) {
    throw new TypeError(`${where}: schemes must be an array of authorization scheme names such as "Bearer"`);
  }
  return Object.freeze([...new Set(value.map((s: string) => s.toLowerCase()))]);
}

function apiKeyHeaders(where: string, value: unknown): readonly string[] {
  if (value === undefined) return X_API_KEY;
  if (value === false) return [];
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (!list.every((name) => typeof name === 'string')) {
    throw new TypeError(`${where}: apiKeyHeader must be a header name, an array of them, or false`);
  }
  const names = list.map((name) => headerName(where, 'apiKeyHeader', name, 'x-api-key') as string);
  return Object.freeze([...new Set(names)]);
}

const BEARER_ONLY: readonly string[] = Object.freeze(['bearer']);
const X_API_KEY: readonly string[] = Object.freeze(['x-api-key']);

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
  if (!isKeyward(keyward))
    throw new TypeError(`${where}: ${what} must be a Keyward service from createKeyward()`);
  return keyward;
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
