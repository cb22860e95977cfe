import { isKeywardError, KeywardError } from '@keyward/core';
import type { ErrorRequestHandler } from 'express';
import { log } from './logger.js';

/**
 * Maps anything a route can throw to a `KeywardError`: Keyward's own errors as they are (from any copy of
 * `@keyward/core`, told by its brand), a path that cannot be decoded to `not_found`, any client error (a
 * 4xx `status` or `statusCode`, as `body-parser` and `http-errors` raise) to the documented 4xx code with
 * a message of our own, and everything else to `internal_error` (the original kept as `cause`).
 *
 * @example
 * const error = toKeywardError(new SyntaxError('Unexpected token')); // internal_error, status 500
 */
export function toKeywardError(error: unknown): KeywardError {
  if (isKeywardError(error)) return error;
  if (error instanceof URIError) {
    // Express could not decode `:id` (e.g. `%E0%A4%A`): such an id names no key.
    return new KeywardError('not_found', { cause: error });
  }
  return fromClientError(error) ?? new KeywardError('internal_error', { cause: error });
}

/**
 * The router's last middleware: answers every error with the documented JSON body and status, with
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

/**
 * An error that blames the request: a 4xx `status` (or `statusCode`) not marked `expose: false`. Its own
 * message is never sent (it may quote internals); the answer is one of the documented codes.
 */
function fromClientError(error: unknown): KeywardError | null {
  if (typeof error !== 'object' || error === null) return null;
  const { status, statusCode, expose, type } = error as Record<string, unknown>;
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 400 || code > 499 || expose === false) {
    return null;
  }
  switch (code) {
    case 401:
      return new KeywardError('unauthorized', { cause: error });
    case 403:
      return new KeywardError('forbidden', { cause: error });
    case 404:
      return new KeywardError('not_found', { cause: error });
    case 409:
      return new KeywardError('conflict', { cause: error });
    case 413:
      return new KeywardError('payload_too_large', { cause: error });
    case 415:
      return new KeywardError('unsupported_media_type', {
        message: MEDIA_TYPE_MESSAGES.get(type),
        cause: error,
      });
    default:
      // 400 and the rest (`entity.parse.failed`, `request.aborted`, `request.size.invalid`, 405, 411, …).
      return new KeywardError('validation_error', {
        details: [
          {
            path: '',
            message:
              type === 'entity.parse.failed' ? 'Must be valid JSON.' : 'The request body could not be read.',
          },
        ],
        cause: error,
      });
  }
}

/** Messages of body-parser's 415s, by its `type`; anything else gets the code's default message. */
const MEDIA_TYPE_MESSAGES = new Map<unknown, string>([
  ['charset.unsupported', 'The request body must be JSON in UTF-8.'],
  ['encoding.unsupported', 'The request body must not have a Content-Encoding.'],
]);
