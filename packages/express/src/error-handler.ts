import { isKeywardError } from '@keyward/core';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { isErrorHandlerCall } from './middleware-call.js';
import { sendError } from './refusal.js';

/**
 * Express error handler that answers any `KeywardError` that reaches `next(err)` with the documented
 * status, headers (`WWW-Authenticate`) and JSON body; every other error goes on to the next handler.
 * Needed with the Passport strategy (which reports refusals through `next(err)`) and with
 * `onError: (error, req, res, next) => next(error)`. Mount it after your routes.
 *
 * @example
 * app.get('/v1/whoami', passport.authenticate('keyward', { session: false }), whoami);
 * app.use(keywardErrorHandler());
 */
export function keywardErrorHandler(): ErrorRequestHandler;
/** Mounted without `()`, as `app.use(keywardErrorHandler)`: acts as `keywardErrorHandler()`. */
export function keywardErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void;
// Four declared parameters, so Express also sees `app.use(keywardErrorHandler)` as an error handler.
export function keywardErrorHandler(
  err?: unknown,
  req?: Request,
  res?: Response,
  next?: NextFunction,
): ErrorRequestHandler | undefined {
  const args = [err, req, res, next];
  if (isErrorHandlerCall(args)) {
    handle(...args);
    return undefined;
  }
  return function keywardErrorHandler(err, req, res, next) {
    handle(err, req, res, next);
  };
}

function handle(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  // isKeywardError, not instanceof: the app may load the other build (ESM/CJS) of @keyward/core.
  if (isKeywardError(err) && !res.headersSent) sendError(res, err);
  else next(err);
}
