import type { Keyward, KeywardError, VerifiedKey } from '@keyward/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { admit, isRefusal, judge } from './check-key.js';
import { extractKey } from './extract-key.js';
import { log } from './logger.js';
import { isMiddlewareCall, mountedUncalled } from './middleware-call.js';
import {
  type AuthErrorHandler,
  checkOptionsObject,
  type KeySourceOptions,
  REQUIREMENT_OPTIONS,
  type RouteRequirements,
  resolveAuth,
  resolveOnError,
  SOURCE_OPTIONS,
} from './options.js';
import { refusal, sendRefusal } from './refusal.js';

/**
 * Options of `apiKeyAuth`: where to read the key, what the route requires, and who answers refusals.
 *
 * @example
 * const options: ApiKeyAuthOptions = { type: 'secret', scopes: ['snippets:write'] };
 * app.post('/v1/snippets', apiKeyAuth(keyward, options), create);
 */
export interface ApiKeyAuthOptions extends KeySourceOptions, RouteRequirements {
  /**
   * Takes over the answer to a refused request (the error carries `status`, `headers` and `toJSON()`).
   * @default sends the contract's JSON body, status and `WWW-Authenticate` header
   */
  onError?: AuthErrorHandler;
}

const WHERE = '@keyward/express apiKeyAuth';
const ALLOWED = [...SOURCE_OPTIONS, ...REQUIREMENT_OPTIONS, 'onError'];

/**
 * Express middleware that authenticates the request with a Keyward API key and sets `req.apiKey`.
 *
 * Reads `Authorization: Bearer <token>` or `X-API-Key: <token>` (never the query string). Refusals get
 * the exact status, `error.code`, JSON body and `WWW-Authenticate` header of the contract; a rolled key
 * in its grace period gets a `Sunset` header. `type: 'secret'` and `scopes` make one-line route guards.
 * Options are checked once, here: a wrong option throws `TypeError`. Works on Express 4 and 5.
 *
 * @example
 * app.use('/v1', apiKeyAuth(keyward));
 * app.get('/v1/snippets', apiKeyAuth(keyward, { scopes: ['snippets:read'] }), listSnippets);
 * app.post('/v1/snippets', apiKeyAuth(keyward, { type: 'secret', scopes: ['snippets:write'] }), createSnippet);
 * app.get('/v1/whoami', apiKeyAuth(keyward), (req, res) => res.json({ apiKey: req.apiKey }));
 */
export function apiKeyAuth(keyward: Keyward, options?: ApiKeyAuthOptions): RequestHandler;
export function apiKeyAuth(...args: unknown[]): RequestHandler {
  if (isMiddlewareCall(args)) {
    // Mounted without `()` (`app.use(apiKeyAuth)`): there is no service to guess.
    const error = mountedUncalled(WHERE, 'apiKeyAuth', 'apiKeyAuth(keyward)');
    log('%s', error.message);
    args[2](error);
    return undefined as never;
  }
  const [keyward, options] = args;
  const checked = checkOptionsObject(WHERE, options, ALLOWED);
  const auth = resolveAuth(WHERE, keyward, checked);
  const onError = resolveOnError(WHERE, checked.onError, sendRefusal);

  function finish(
    outcome: VerifiedKey | KeywardError,
    req: Request,
    res: Response,
    next: NextFunction,
  ): void {
    if (isRefusal(outcome)) {
      log('refused: %s', outcome.code);
      req.apiKey = undefined;
      // Express 4 ignores returned promises: a rejection of an async onError must reach next(err) by hand.
      const answered = onError(outcome, req, res, next);
      if (answered) answered.catch(next);
      return;
    }
    admit(req, outcome, auth);
    next();
  }

  return function apiKeyAuth(req, res, next) {
    const found = extractKey(req, auth.source);
    if (!('token' in found)) return finish(refusal(found.code, auth.realm), req, res, next);
    // A cached key (or a malformed token) is answered without waiting: no promise on the hot path.
    const cached = auth.keyward.verifyCached(found.token);
    if (cached !== undefined) return finish(judge(auth, cached, res), req, res, next);
    auth.keyward
      .verify(found.token)
      .then((result) => finish(judge(auth, result, res), req, res, next))
      .catch(next);
  };
}
