import { KeywardError } from '@keyward/core';
import type { RequestHandler } from 'express';

/**
 * The router's paths (relative to its mount) and the methods each answers. `HEAD` goes with `GET` (Express
 * answers it from the GET route); `OPTIONS` is left to Express and the app (CORS preflights).
 */
const PATHS: ReadonlyArray<{ pattern: RegExp; allow: string }> = [
  { pattern: /^\/$/, allow: 'GET, HEAD, POST' },
  { pattern: /^\/(?:events|scopes|usage|non-compliant|openapi\.json)\/?$/i, allow: 'GET, HEAD' },
  { pattern: /^\/[^/]+\/roll\/?$/, allow: 'POST' },
  { pattern: /^\/[^/]+\/usage\/?$/, allow: 'GET, HEAD' },
  { pattern: /^\/[^/]+\/credits\/?$/, allow: 'GET, HEAD, PUT, DELETE' },
  { pattern: /^\/[^/]+\/?$/, allow: 'GET, HEAD, PATCH, DELETE' },
];

/**
 * Answers a method a known path does not take with 405 `method_not_allowed` and an `Allow` header, before
 * anything else runs (no `authorize`, no body read): `PUT /`, `DELETE /events`, `GET /:id/roll`. Without
 * it, `PATCH /events` would reach `PATCH /:id` and answer 404 for a key named "events". Requests for other
 * paths, and `OPTIONS`, go on to the routes (and, unmatched, to the host app).
 *
 * @example
 * router.use(methodNotAllowed()); // before the routes
 */
export function methodNotAllowed(): RequestHandler {
  return function keywardAdminMethodNotAllowed(req, res, next) {
    if (req.method === 'OPTIONS') return next();
    const known = PATHS.find(({ pattern }) => pattern.test(req.path));
    if (!known || known.allow.split(', ').includes(req.method)) return next();
    const error = new KeywardError('method_not_allowed', {
      message: `${req.method} is not allowed here; this path answers ${known.allow}.`,
      headers: { Allow: known.allow },
    });
    res
      .status(error.status)
      .set({ ...error.headers, 'Cache-Control': 'no-store' })
      .json(error.toJSON());
  };
}

/**
 * The methods each path of the OpenAPI document answers (for tests and the document): `Allow` of a 405.
 *
 * @example
 * allowedMethods('/{id}'); // 'GET, HEAD, PATCH, DELETE'
 */
export function allowedMethods(
  path:
    | '/'
    | '/events'
    | '/scopes'
    | '/usage'
    | '/non-compliant'
    | '/openapi.json'
    | '/{id}'
    | '/{id}/roll'
    | '/{id}/usage',
) {
  const concrete = path.replace('{id}', 'key_0123456789ABCDEFGHIJ');
  return PATHS.find(({ pattern }) => pattern.test(concrete))?.allow ?? '';
}
