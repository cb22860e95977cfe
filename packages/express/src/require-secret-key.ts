import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { log } from './logger.js';
import { isMiddlewareCall } from './middleware-call.js';
import { type GuardOptions, resolveGuard } from './options.js';
import { refusal, sendRefusal } from './refusal.js';
import { reportOutcome } from './report-outcome.js';
import { serviceOf } from './request-service.js';

const WHERE = '@keyward/express requireSecretKey';

/**
 * Route guard that refuses public keys with 403 `secret_key_required`. Put it after `apiKeyAuth()` (or the
 * Passport strategy). Without an authenticated key it fails closed with 401 `missing_api_key`.
 *
 * @example
 * app.use('/v1', apiKeyAuth(keyward));
 * app.post('/v1/snippets', requireSecretKey(), requireScopes('snippets:write'), createSnippet);
 */
export function requireSecretKey(options?: GuardOptions): RequestHandler;
/** Mounted without `()`, as `app.post('/x', requireSecretKey, handler)`: acts as `requireSecretKey()`. */
export function requireSecretKey(req: Request, res: Response, next: NextFunction): void;
export function requireSecretKey(...args: unknown[]): RequestHandler | undefined {
  if (isMiddlewareCall(args)) {
    byDefault ??= createGuard(undefined);
    byDefault(...args);
    return undefined;
  }
  return createGuard(args[0]);
}

/**
 * `requireSecretKey()`, built on first use by an app that mounted `requireSecretKey` without `()`. Holds no
 * state: it is the default options, resolved once, like a constant.
 */
let byDefault: RequestHandler | undefined;

function createGuard(options: unknown): RequestHandler {
  const { realm, onError } = resolveGuard(WHERE, options, sendRefusal);

  async function guard(req: Request, res: Response, next: NextFunction): Promise<void> {
    const key = req.apiKey;
    if (!key) {
      log('requireSecretKey ran without an authenticated key: is apiKeyAuth() mounted before it?');
      return onError(refusal('missing_api_key', realm), req, res, next);
    }
    if (key.type === 'secret') return next();
    log('refused by requireSecretKey: secret_key_required');
    const refused = refusal('secret_key_required', realm);
    // Usage (docs/reference.md §9): the request was counted admitted by apiKeyAuth; it is refused after all.
    const service = serviceOf(req);
    if (service) reportOutcome(service, req, res, key, refused);
    return onError(refused, req, res, next);
  }

  return function requireSecretKey(req, res, next) {
    guard(req, res, next).catch(next);
  };
}
