import type { Keyward } from '@keyward/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { log } from './logger.js';
import { isMiddlewareCall, mountedUncalled } from './middleware-call.js';
import {
  checkKeyward,
  checkOptionsObject,
  type GuardOptions,
  resolveGuard,
  resolveScopes,
} from './options.js';
import { refusal, sendRefusal } from './refusal.js';
import { reportOutcome } from './report-outcome.js';
import { serviceOf } from './request-service.js';

/**
 * Options of `requireScopes`: those of every guard, and the Keyward service whose catalog the scope
 * names are checked against at start-up.
 *
 * @example
 * app.post('/v1/snippets', requireScopes('snippets:write', { keyward }), createSnippet);
 */
export interface RequireScopesOptions extends GuardOptions {
  /**
   * The Keyward service the keys come from. When given, a scope outside its catalog throws `TypeError`
   * here, at start-up. Without it, the scope names are checked on the first request, against the service
   * that authenticated it (see the README).
   * @default undefined
   */
  keyward?: Keyward;
}

const WHERE = '@keyward/express requireScopes';

/**
 * Route guard that lets a request through only if `req.apiKey` holds every listed scope, else 403
 * `insufficient_scope` (the body lists the `required` scopes). Put it after `apiKeyAuth()` (or the
 * Passport strategy). Without an authenticated key it fails closed with 401 `missing_api_key`.
 *
 * A scope outside the Keyward scope catalog can never be held, so it is a bug in the route, not a refusal:
 * with `{ keyward }` it throws `TypeError` at start-up; without, every request the guard sees with a key
 * from `apiKeyAuth` or the Passport strategy goes to `next(TypeError)` (a 500) and is logged.
 *
 * @example
 * app.use('/v1', apiKeyAuth(keyward));
 * app.post('/v1/snippets', requireScopes('snippets:write', { keyward }), createSnippet);
 * app.delete('/v1/snippets/:id', requireScopes(['snippets:read', 'snippets:write']), deleteSnippet);
 */
export function requireScopes(
  scopes: string | readonly string[],
  options?: RequireScopesOptions,
): RequestHandler;
export function requireScopes(...args: unknown[]): RequestHandler {
  if (isMiddlewareCall(args)) {
    // Mounted without `()` (`app.post('/x', requireScopes, handler)`): there are no scopes to guess.
    const error = mountedUncalled(WHERE, 'requireScopes', "requireScopes('scope:name', { keyward })");
    log('%s', error.message);
    args[2](error);
    return undefined as never;
  }
  const [scopes, options] = args;
  if (scopes === undefined || (Array.isArray(scopes) && scopes.length === 0)) {
    throw new TypeError(`${WHERE}: list the scopes the route requires, e.g. requireScopes('snippets:read')`);
  }
  const checked = checkOptionsObject(WHERE, options, ['realm', 'onError', 'keyward']);
  const service = checked.keyward === undefined ? undefined : checkKeyward(WHERE, checked.keyward, 'keyward');
  const required = resolveScopes(WHERE, scopes, service?.scopes.catalog);
  const { realm, onError } = resolveGuard(
    WHERE,
    { realm: checked.realm, onError: checked.onError },
    sendRefusal,
  );
  // Per service: the first scope outside its catalog, or null. Filled once per service, then one lookup.
  const unknownIn = new WeakMap<object, TypeError | null>();
  if (service) unknownIn.set(service, null);

  function catalogError(keyward: Keyward): TypeError | null {
    let error = unknownIn.get(keyward);
    if (error === undefined) {
      const catalog: unknown = keyward.scopes?.catalog;
      const unknown = catalog instanceof Set ? required.find((s) => !catalog.has(s)) : undefined;
      error =
        unknown === undefined
          ? null
          : new TypeError(
              `${WHERE}: unknown scope "${unknown}" (not in the scopes of the Keyward service that ` +
                'authenticated the request); no key can hold it. Fix the scope name, and pass ' +
                '{ keyward } to requireScopes to catch this at start-up.',
            );
      unknownIn.set(keyward, error);
    }
    return error;
  }

  async function guard(req: Request, res: Response, next: NextFunction): Promise<void> {
    const key = req.apiKey;
    if (!key) {
      log('requireScopes ran without an authenticated key: is apiKeyAuth() mounted before it?');
      return onError(refusal('missing_api_key', realm), req, res, next);
    }
    const authenticatedBy = serviceOf(req);
    const misconfigured = authenticatedBy && catalogError(authenticatedBy);
    if (misconfigured) {
      log('%s', misconfigured.message);
      return next(misconfigured);
    }
    if (required.every((scope) => key.scopes.includes(scope))) return next();
    log('refused by requireScopes: insufficient_scope');
    const refused = refusal('insufficient_scope', realm, required);
    // Usage (docs/reference.md §9): the request was counted admitted by apiKeyAuth; it is refused after all.
    if (authenticatedBy) reportOutcome(authenticatedBy, req, res, key, refused);
    return onError(refused, req, res, next);
  }

  return function requireScopes(req, res, next) {
    guard(req, res, next).catch(next);
  };
}
