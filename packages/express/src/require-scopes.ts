import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { log } from './logger.js';
import { type GuardOptions, resolveGuard, resolveScopes } from './options.js';
import { refusal, sendRefusal } from './refusal.js';

const WHERE = '@keyward/express requireScopes';

/**
 * Route guard that lets a request through only if `req.apiKey` holds every listed scope, else 403
 * `insufficient_scope` (the body lists the `required` scopes). Put it after `apiKeyAuth()` (or the
 * Passport strategy). Without an authenticated key it fails closed with 401 `missing_api_key`.
 *
 * @example
 * app.use('/v1', apiKeyAuth(keyward));
 * app.post('/v1/snippets', requireScopes('snippets:write'), createSnippet);
 * app.delete('/v1/snippets/:id', requireScopes(['snippets:read', 'snippets:write']), deleteSnippet);
 */
export function requireScopes(scopes: string | readonly string[], options?: GuardOptions): RequestHandler {
  const required = resolveScopes(WHERE, scopes);
  if (required.length === 0) throw new TypeError(`${WHERE}: list at least one scope`);
  const { realm, onError } = resolveGuard(WHERE, options, sendRefusal);

  async function guard(req: Request, res: Response, next: NextFunction): Promise<void> {
    const key = req.apiKey;
    if (!key) {
      log('requireScopes ran without an authenticated key: is apiKeyAuth() mounted before it?');
      return onError(refusal('missing_api_key', realm), req, res, next);
    }
    if (required.every((scope) => key.scopes.includes(scope))) return next();
    log('refused by requireScopes: insufficient_scope');
    return onError(refusal('insufficient_scope', realm, required), req, res, next);
  }

  return function requireScopes(req, res, next) {
    guard(req, res, next).catch(next);
  };
}
