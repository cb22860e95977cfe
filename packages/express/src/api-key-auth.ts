import type { Keyward } from '@keyward/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isRefusal } from './check-key.js';
import { type CreditCost, resolveCost } from './credits.js';
import { createDecision } from './decide-request.js';
import { type KeyLimiter, resolveLimiter } from './key-limiter.js';
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
import { sendRefusal } from './refusal.js';

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
   * @default sends the documented JSON body, status and `WWW-Authenticate` header
   */
  onError?: AuthErrorHandler;
  /**
   * Counts requests against keys' `limits` and refused keys against client addresses (docs/reference.md §6). Make
   * one with `createKeyLimiter` (e.g. on Redis) and pass the same one to every `apiKeyAuth` of the app.
   * @default one in-memory limiter per Keyward service, shared by every `apiKeyAuth` without this option
   */
  limiter?: KeyLimiter;
  /**
   * What an admitted request costs in credits when its key has any (docs/reference.md §10): a number, or a
   * function of the request; `0` only checks that the balance is above zero. At zero the request is refused
   * with 429 `credits_exhausted`. A request through several guards pays the highest cost once.
   * @default 1
   */
  cost?: CreditCost;
}

const WHERE = '@keyward/express apiKeyAuth';
const ALLOWED = [...SOURCE_OPTIONS, ...REQUIREMENT_OPTIONS, 'onError', 'limiter', 'cost'];

/**
 * Express middleware that authenticates the request with a Keyward API key and sets `req.apiKey`.
 *
 * Reads `Authorization: Bearer <token>` or `X-API-Key: <token>` (never the query string). Refusals get
 * the exact status, `error.code`, JSON body and `WWW-Authenticate` header of docs/reference.md; a rolled key
 * in its grace period gets `Sunset` and `Deprecation` headers. `type: 'secret'` and `scopes` make one-line route guards.
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
  const limiter = resolveLimiter(WHERE, checked.limiter, auth.keyward);
  // docs/reference.md §6's decision, shared with the Passport strategy; this middleware only answers its outcome.
  const decision = createDecision<NextFunction>(
    auth,
    limiter,
    (outcome, req, res, next) => {
      if (!isRefusal(outcome)) return next();
      // Express 4 ignores returned promises: a rejection of an async onError must reach next(err) by hand.
      const answered = onError(outcome, req as Request, res as Response, next);
      if (answered) answered.catch(next);
    },
    (error, next) => next(error),
    resolveCost(WHERE, checked.cost),
  );

  return function apiKeyAuth(req, res, next) {
    decision.run(req, res, next);
  };
}
