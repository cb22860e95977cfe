import { KeywardError, type KeywardErrorCode } from '@keyward/core';
import type { Response } from 'express';
import type { AuthErrorHandler } from './options.js';

/**
 * A contract §2 refusal with its status, body and (on 401) `WWW-Authenticate` challenge. Built without a
 * stack trace: a refusal is an answer, not a fault, and a flood of garbage keys must cost little.
 */
export function refusal(
  code: KeywardErrorCode,
  realm: string,
  required?: readonly string[],
  headers?: Readonly<Record<string, string>>,
): KeywardError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new KeywardError(code, {
      realm,
      ...(required ? { extra: { required: [...required] } } : {}),
      ...(headers ? { headers } : {}),
    });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Writes a `KeywardError` as the contract answer: status, its headers and `{ error: { code, message } }`. */
export function sendError(res: Response, error: KeywardError): void {
  res.status(error.status);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.json(error.toJSON());
}

/** The default `onError`: the contract answer, unless a response is already under way. */
export const sendRefusal: AuthErrorHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error);
  sendError(res, error);
};
