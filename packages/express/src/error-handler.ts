import { isKeywardError } from '@keyward/core';
import type { ErrorRequestHandler } from 'express';
import { sendError } from './refusal.js';

/**
 * Express error handler that answers any `KeywardError` that reaches `next(err)` with the contract's
 * status, headers (`WWW-Authenticate`) and JSON body; every other error goes on to the next handler.
 * Needed with the Passport strategy (which reports refusals through `next(err)`) and with
 * `onError: (error, req, res, next) => next(error)`. Mount it after your routes.
 *
 * @example
 * app.get('/v1/whoami', passport.authenticate('keyward', { session: false }), whoami);
 * app.use(keywardErrorHandler());
 */
export function keywardErrorHandler(): ErrorRequestHandler {
  return function keywardErrorHandler(err, _req, res, next) {
    // isKeywardError, not instanceof: the app may load the other build (ESM/CJS) of @keyward/core.
    if (!isKeywardError(err) || res.headersSent) return next(err);
    sendError(res, err);
  };
}
