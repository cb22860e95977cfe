import { ERROR_CODES, KeywardError, type KeywardErrorCode } from '@keyward/core';
import type { ErrorRequestHandler } from 'express';
import { log } from './logger.js';

/**
 * Maps anything a route can throw to a `KeywardError`: Keyward's own errors as they are, the body
 * parser's errors to `payload_too_large` / `unsupported_media_type` / `validation_error`, a path that
 * cannot be decoded to `not_found`, and everything else to `internal_error` (the original kept as `cause`).
 *
 * @example
 * const error = toKeywardError(new SyntaxError('Unexpected token')); // internal_error, status 500
 */
export function toKeywardError(error: unknown): KeywardError {
  if (error instanceof KeywardError) return error;
  if (isKeywardErrorLike(error)) {
    // A KeywardError from another copy of @keyward/core (e.g. the CJS build next to our ESM build).
    return new KeywardError(error.code, {
      message: error.message,
      details: error.details,
      extra: error.extra,
      cause: error,
    });
  }
  const bodyError = fromBodyParser(error);
  if (bodyError) return bodyError;
  if (error instanceof URIError) {
    // Express could not decode `:id` (e.g. `%E0%A4%A`): such an id names no key.
    return new KeywardError('not_found', { cause: error });
  }
  return new KeywardError('internal_error', { cause: error });
}

/**
 * The router's last middleware: answers every error with the contract's JSON body and status, with
 * `Cache-Control: no-store`; 5xx bodies never carry the error's message, stack or internals.
 *
 * @example
 * router.use(createErrorHandler());
 */
export function createErrorHandler(): ErrorRequestHandler {
  return function keywardAdminErrorHandler(error, req, res, next) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const answer = toKeywardError(error);
    if (answer.status >= 500) {
      // Name and code only: a store's message may quote a token or a hash.
      const cause = answer.cause instanceof Error ? answer.cause : answer;
      log('%s %s failed with %s (%s)', req.method, req.path, answer.code, cause.name);
    }
    res.status(answer.status).set(answer.headers).set('Cache-Control', 'no-store').json(answer.toJSON());
  };
}

interface KeywardErrorLike {
  code: KeywardErrorCode;
  message: string;
  details?: KeywardError['details'];
  extra?: KeywardError['extra'];
}

function isKeywardErrorLike(error: unknown): error is KeywardErrorLike {
  if (
    !(error instanceof Error) ||
    !(error.name === 'KeywardError' || error.name === 'KeyStoreUnavailableError')
  ) {
    return false;
  }
  const { code } = error as { code?: unknown };
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** Errors of `body-parser` (Express 4 and 5) carry a `type` such as `entity.too.large`. */
function fromBodyParser(error: unknown): KeywardError | null {
  if (typeof error !== 'object' || error === null) return null;
  const { type, status } = error as { type?: unknown; status?: unknown };
  if (typeof type !== 'string' || typeof status !== 'number') return null;
  switch (type) {
    case 'entity.too.large':
      return new KeywardError('payload_too_large', { cause: error });
    case 'entity.parse.failed':
      return invalidBody('Must be valid JSON.', error);
    case 'charset.unsupported':
      return new KeywardError('unsupported_media_type', {
        message: 'The request body must be JSON in UTF-8.',
        cause: error,
      });
    case 'encoding.unsupported':
      return new KeywardError('unsupported_media_type', {
        message: 'The request body has an unsupported Content-Encoding.',
        cause: error,
      });
    default:
      // e.g. `request.aborted`, `request.size.invalid`: the client sent a broken body.
      if (status >= 400 && status < 500) return invalidBody('The request body could not be read.', error);
      return null;
  }
}

function invalidBody(message: string, cause: unknown): KeywardError {
  return new KeywardError('validation_error', { details: [{ path: '', message }], cause });
}
