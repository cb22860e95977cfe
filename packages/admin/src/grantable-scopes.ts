import { KeywardError } from '@keyward/core';
import type { RouteHandler } from './endpoint.js';

/**
 * Wraps the create and update routes so that a key made or changed through the admin API holds only the
 * scopes the app lets its customers grant (docs/reference.md §10 `grantableScopes`): any other scope in `scopes`
 * is refused with 400 `validation_error` (path `scopes.<i>`), before the service is called. A create
 * without `scopes` gets its type's default scopes that are grantable (the service's defaults would
 * include the others). `null`: no restriction.
 *
 * @example
 * router.post("/", endpoint(context, onlyGrantable(createKey, grantable, "create")));
 */
export function onlyGrantable(
  handler: RouteHandler,
  grantable: ReadonlySet<string> | null,
  mode: 'create' | 'update',
): RouteHandler {
  if (grantable === null) return handler;
  return async function grantableScopes(input) {
    const body = input.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return handler(input);
    const scopes = (body as { scopes?: unknown }).scopes;
    if (Array.isArray(scopes)) {
      const details = scopes.flatMap((scope, i) =>
        typeof scope === 'string' && !grantable.has(scope)
          ? [{ path: `scopes.${i}`, message: `"${scope}" is not a scope that can be granted here.` }]
          : [],
      );
      if (details.length > 0) throw new KeywardError('validation_error', { details });
      return handler(input);
    }
    const type = (body as { type?: unknown }).type;
    if (mode === 'create' && scopes === undefined && (type === 'public' || type === 'secret')) {
      const defaults = input.keyward.scopes.defaults(type).filter((s) => grantable.has(s));
      return handler({ ...input, body: { ...body, scopes: defaults } });
    }
    return handler(input);
  };
}
