interface CodeInfo {
  status: number;
  message: string;
  /** Value of the `error` parameter of `WWW-Authenticate` (RFC 6750); `null` omits it. */
  bearerError?: string | null;
}

/** The code table: HTTP status and default message of every code (`KeywardErrorCode` is its keys). */
const CODE_TABLE = {
  missing_api_key: { status: 401, message: 'An API key is required.', bearerError: null },
  invalid_api_key: { status: 401, message: 'The API key is invalid.', bearerError: 'invalid_token' },
  expired_api_key: { status: 401, message: 'The API key has expired.', bearerError: 'invalid_token' },
  disabled_api_key: { status: 401, message: 'The API key is disabled.', bearerError: 'invalid_token' },
  conflicting_api_keys: { status: 400, message: 'The request carries two different API keys.' },
  secret_key_required: { status: 403, message: 'This endpoint requires a secret API key.' },
  insufficient_scope: { status: 403, message: 'The API key lacks a required scope.' },
  key_store_unavailable: {
    status: 503,
    message: 'The API key store cannot be reached right now. Try again shortly.',
  },
  ip_not_allowed: { status: 403, message: 'The API key may not be used from this address.' },
  origin_not_allowed: { status: 403, message: 'The API key may not be used from this origin.' },
  rate_limited: { status: 429, message: 'The API key is over its rate limit. Retry later.' },
  credits_exhausted: { status: 429, message: 'The API key has no credits left.' },
  too_many_invalid_keys: {
    status: 429,
    message: 'Too many requests with invalid API keys from this address. Retry later.',
  },
  validation_error: { status: 400, message: 'The request is invalid.' },
  unauthorized: { status: 401, message: 'Authentication is required.' },
  forbidden: { status: 403, message: 'You may not manage these API keys.' },
  not_found: { status: 404, message: 'No such API key.' },
  method_not_allowed: { status: 405, message: 'This path does not take this method.' },
  conflict: { status: 409, message: 'The API key cannot be changed this way in its current state.' },
  precondition_failed: {
    status: 412,
    message: 'The API key was changed by someone else since you read it. Reload it and try again.',
  },
  idempotency_key_reused: {
    status: 422,
    message: 'This Idempotency-Key was already used with another request.',
  },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'The request body must be JSON.' },
  too_many_requests: {
    status: 429,
    message: "Too many changes to this organization's API keys. Retry later.",
  },
  internal_error: { status: 500, message: 'Something went wrong on our side.' },
} satisfies Record<string, CodeInfo>;

/** Every error code Keyward can answer with, over HTTP or from the service: the keys of `ERROR_CODES`. */
export type KeywardErrorCode = keyof typeof CODE_TABLE;

/** The code table: HTTP status and default message of every code. */
export const ERROR_CODES: Readonly<Record<KeywardErrorCode, CodeInfo>> = CODE_TABLE;

/** The most `details` an error carries: a hostile body cannot make the answer larger than the request. */
export const MAX_ERROR_DETAILS = 20;

/** Marks Keyward errors across copies of this package (the ESM and the CJS build side by side). */
const BRAND = Symbol.for('keyward.error');

/** One problem found in a request body: `path` is the dotted field path. */
export interface ValidationDetail {
  path: string;
  message: string;
}

export interface KeywardErrorOptions {
  message?: string;
  cause?: unknown;
  details?: ValidationDetail[];
  /** Extra JSON members of the error body, e.g. `required` for `insufficient_scope`. */
  extra?: Record<string, unknown>;
  /** The `realm` of `WWW-Authenticate` on 401 answers. @default "api" */
  realm?: string;
  /** More response headers, e.g. `Retry-After` on 429 answers. @default {} */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The one error class of Keyward. `status`, `headers` and `expose` tell an HTTP layer how to answer;
 * `toJSON()` gives the documented body. Messages never contain a token, hash or pepper.
 *
 * @example
 * throw new KeywardError('not_found');
 */
export class KeywardError extends Error {
  readonly code: KeywardErrorCode;
  readonly status: number;
  /** Whether the message may be shown to the client (false only for 5xx internals). */
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: ValidationDetail[] | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  constructor(code: KeywardErrorCode, options: KeywardErrorOptions = {}) {
    const info = ERROR_CODES[code];
    super(
      options.message ?? info.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'KeywardError';
    this.code = code;
    this.status = info.status;
    this.expose = info.status < 500 || code === 'key_store_unavailable';
    this.details = options.details?.slice(0, MAX_ERROR_DETAILS);
    this.extra = options.extra;
    const challenge: Record<string, string> =
      info.bearerError === undefined
        ? {}
        : { 'WWW-Authenticate': bearerChallenge(options.realm ?? 'api', info.bearerError) };
    this.headers = options.headers ? { ...challenge, ...options.headers } : challenge;
  }

  /** The JSON body of docs/reference.md §2/§3: `{ error: { code, message, ... } }`. */
  toJSON(): { error: Record<string, unknown> } {
    const message = this.expose ? this.message : ERROR_CODES.internal_error.message;
    const error: Record<string, unknown> = { code: this.expose ? this.code : 'internal_error', message };
    if (this.details) error.details = this.details;
    if (this.extra) Object.assign(error, this.extra);
    return { error };
  }
}

/**
 * Whether `error` is a `KeywardError` from any copy of `@keyward/core` (the ESM and the CJS builds are two
 * classes, so `instanceof` alone misses one of them). Use it wherever errors from the service are told apart.
 *
 * @example
 * app.use((err, req, res, next) => (isKeywardError(err) ? res.status(err.status).json(err.toJSON()) : next(err)));
 */
export function isKeywardError(error: unknown): error is KeywardError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (error as { code?: unknown }).code === 'string' &&
    Object.hasOwn(ERROR_CODES, (error as { code: string }).code)
  );
}

/**
 * Thrown (or wrapped) when the key store cannot be reached; answers 503. With `mayHaveApplied`, a write
 * whose outcome is not known: the store settles it (it lands whole or not at all, with its event), and the
 * message tells the caller to read the key back, which then answers the settled state.
 */
export class KeyStoreUnavailableError extends KeywardError {
  readonly mayHaveApplied: boolean;

  constructor(cause?: unknown, options: { mayHaveApplied?: boolean } = {}) {
    const mayHaveApplied = options.mayHaveApplied === true;
    super('key_store_unavailable', {
      cause,
      ...(mayHaveApplied && {
        message:
          'The key store did not confirm the change in time. It may have been applied: read the key back.',
        extra: { mayHaveApplied: true },
      }),
    });
    this.name = 'KeyStoreUnavailableError';
    this.mayHaveApplied = mayHaveApplied;
  }
}

/** Thrown by `KeyStore.insert` when a unique field (hash or slot) already exists. */
export class DuplicateKeyError extends Error {
  constructor(readonly field: 'hash' | 'slot' | 'id') {
    super(`A key with the same ${field} already exists.`);
    this.name = 'DuplicateKeyError';
  }
}

function bearerChallenge(realm: string, error: string | null): string {
  return error === null ? `Bearer realm="${realm}"` : `Bearer realm="${realm}", error="${error}"`;
}
