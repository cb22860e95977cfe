import type { ServerResponse } from 'node:http';
import { ERROR_CODES, KeywardError, type KeywardErrorCode } from '@keyward/core';
import type { AuthErrorHandler, Realm } from './options.js';

/**
 * A docs/reference.md §2 refusal with its status, body and (on 401) `WWW-Authenticate` challenge. Built without a
 * stack trace: a refusal is an answer, not a fault, and a flood of garbage keys must cost little.
 */
export function refusal(
  code: KeywardErrorCode,
  realm: Realm,
  required?: readonly string[],
  headers?: Readonly<Record<string, string>>,
): KeywardError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const challenge = typeof realm === 'string' ? undefined : challengeOf(code, realm.header);
    return new KeywardError(code, {
      realm: typeof realm === 'string' ? realm : realm.realm,
      extra: required ? { required: [...required] } : undefined,
      headers: challenge === undefined ? headers : { ...headers, 'WWW-Authenticate': challenge },
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The app's own challenge for a 401 code (by its RFC 6750 `error`); nothing for other statuses. */
function challengeOf(code: KeywardErrorCode, header: Readonly<Record<string, string>>): string | undefined {
  const info = ERROR_CODES[code] as { status: number; bearerError?: string | null };
  if (info.status !== 401) return undefined;
  return header[info.bearerError ?? ''];
}

/**
 * Writes a `KeywardError` as docs/reference.md answer: status, its headers and `{ error: { code, message } }` as
 * `application/json; charset=utf-8`, exactly what `res.status(…).set(…).json(…)` sends, without a body on
 * `HEAD`. Written with Node's own calls rather than Express's `res.json`, which costs a garbage-key flood
 * more than the rest of the refusal together (settings lookups, content-type parsing, an ETag a 4xx never
 * needs); it also works on a plain `http.ServerResponse`.
 */
export function sendError(res: ServerResponse, error: KeywardError): void {
  const body = JSON.stringify(error.toJSON());
  res.statusCode = error.status;
  const headers = error.headers;
  for (const name in headers) res.setHeader(name, headers[name] as string);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

/** The default `onError`: docs/reference.md answer, unless a response is already under way. */
export const sendRefusal: AuthErrorHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  sendError(res, error);
};
