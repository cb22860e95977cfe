import type { Keyward, KeywardError, VerifiedKey, VerifyResult } from '@keyward/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { admit, isRefusal, judge } from './check-key.js';
import { corsForKey } from './cors-for-key.js';
import { type CreditCost, resolveCost } from './credits.js';
import { afterRefusal, checkPolicy, checkThrottle } from './enforce-policy.js';
import { extractKey } from './extract-key.js';
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
import { refusal, sendRefusal } from './refusal.js';
import { COUNT_REFUSALS, reportOutcome } from './report-outcome.js';

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
  const cost = resolveCost(WHERE, checked.cost);
  const { realm } = auth;

  function finish(
    outcome: VerifiedKey | KeywardError,
    req: Request,
    res: Response,
    next: NextFunction,
  ): void {
    if (isRefusal(outcome)) {
      if (log.enabled) log('refused: %s', outcome.code);
      // Only when set (by an earlier guard): adding a property to Express's req costs µs a request.
      if (req.apiKey !== undefined) req.apiKey = undefined;
      // Express 4 ignores returned promises: a rejection of an async onError must reach next(err) by hand.
      const answered = onError(outcome, req, res, next);
      if (answered) answered.catch(next);
      return;
    }
    admit(req, outcome, auth);
    next();
  }

  /** Contract §6's order after the lookup: state, type, scopes (judge), then IP, origin and limits. */
  function decide(result: VerifyResult, req: Request, res: Response, next: NextFunction): void {
    // CORS from this verify result (origin-bound public keys): no second lookup, after the throttle.
    if (result.valid && result.policy !== null) corsForKey(result.policy, result.key, req, res);
    const outcome = judge(auth, result, res);
    if (isRefusal(outcome)) {
      // A type or scope refusal of a key core admitted is this middleware's to count.
      if (result.valid) reportOutcome(auth.keyward, req, result.key, outcome);
      const answer = afterRefusal(limiter, req, outcome, realm);
      if (answer instanceof Promise) answer.then((a) => finish(a, req, res, next)).catch(next);
      else finish(answer, req, res, next);
      return;
    }
    let denied: ReturnType<typeof checkPolicy>;
    try {
      const valid = result as VerifyResult & { valid: true };
      denied = checkPolicy(limiter, valid, outcome, req, res, realm, auth.keyward, cost);
    } catch (error) {
      // A `cost` function that threw or answered something that is no cost: the app's fault.
      next(error);
      return;
    }
    if (denied === null) {
      reportOutcome(auth.keyward, req, outcome, null);
      admit(req, outcome, auth);
      next();
    } else if (denied instanceof Promise)
      denied
        .then((d) => {
          reportOutcome(auth.keyward, req, outcome, d);
          finish(d ?? outcome, req, res, next);
        })
        .catch(next);
    else {
      reportOutcome(auth.keyward, req, outcome, denied);
      finish(denied, req, res, next);
    }
  }

  return function apiKeyAuth(req, res, next) {
    const found = extractKey(req, auth.source);
    if (!('token' in found)) {
      if ('fault' in found) return next(found.fault);
      return finish(refusal(found.code, realm), req, res, next);
    }
    const throttled = checkThrottle(limiter, req, realm);
    if (throttled !== null) return finish(throttled, req, res, next);
    // A cached key (or a malformed token) is answered without waiting: no promise on the hot path.
    const cached = auth.keyward.verifyCached(found.token, undefined, COUNT_REFUSALS);
    if (cached !== undefined) return decide(cached, req, res, next);
    auth.keyward
      .verify(found.token, undefined, COUNT_REFUSALS)
      .then((result) => decide(result, req, res, next))
      .catch(next);
  };
}
