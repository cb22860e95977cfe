import { KeywardError } from '@keyward/core';
import type { ErrorRequestHandler, RequestHandler } from 'express';

/**
 * Anything a route threw, as a `KeywardError`: Keyward's own errors as they are, the JSON body parser's
 * errors as 400 / 413 / 415, and everything else as 500 `internal_error` (no details reach the client).
 *
 * @example
 * toDemoError(Object.assign(new Error('too large'), { type: 'entity.too.large', status: 413 })); // payload_too_large
 */
export function toDemoError(error: unknown): KeywardError {
  if (error instanceof KeywardError) return error;
  const { type, status } = (typeof error === 'object' && error !== null ? error : {}) as {
    type?: unknown;
    status?: unknown;
  };
  if (type === 'entity.too.large') return new KeywardError('payload_too_large', { cause: error });
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    return new KeywardError('unsupported_media_type', { cause: error });
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return invalidBody(
      type === 'entity.parse.failed' ? 'Must be valid JSON.' : 'The request body could not be read.',
    );
  }
  return new KeywardError('internal_error', { cause: error });
}

/**
 * A 400 `validation_error` about the whole body (`path: ""`).
 *
 * @example
 * throw invalidBody('Must be a JSON object.');
 */
export function invalidBody(message: string): KeywardError {
  return new KeywardError('validation_error', { details: [{ path: '', message }] });
}

/**
 * The app's last error handler: the documented JSON error body, `Cache-Control: no-store`, and a one-line
 * log of server faults (the error's name only: messages can quote what a client sent).
 *
 * @example
 * app.use(demoErrorHandler((line) => console.error(line)));
 */
export function demoErrorHandler(log: (line: string) => void): ErrorRequestHandler {
  return function keywardDemoErrorHandler(error, req, res, next) {
    if (res.headersSent) {
      next(error);
      return;
    }
    const answer = toDemoError(error);
    if (answer.status >= 500) {
      const cause = answer.cause instanceof Error ? answer.cause.name : typeof answer.cause;
      log(`[demo] ${req.method} ${req.path} failed with ${answer.code} (${cause})`);
    }
    res.status(answer.status).set(answer.headers).set('Cache-Control', 'no-store').json(answer.toJSON());
  };
}

/**
 * 404 in JSON for every request no route answered.
 *
 * @example
 * app.use(notFound);
 */
export const notFound: RequestHandler = function keywardDemoNotFound(_req, res) {
  res
    .status(404)
    .set('Cache-Control', 'no-store')
    .json({ error: { code: 'not_found', message: 'There is nothing at this address.' } });
};
