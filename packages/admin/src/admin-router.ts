import type { Router } from 'express';
import express from 'express';
import { createBodyReader } from './body.js';
import { type EndpointContext, endpoint } from './endpoint.js';
import { createErrorHandler } from './error-handler.js';
import { onlyGrantable } from './grantable-scopes.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { createOpenApiHandler } from './openapi.js';
import { operatorFields } from './operator-fields.js';
import { type AdminRouterOptions, resolveAdminOptions } from './options.js';
import { createRequestGuard } from './request-guard.js';
import { createKey } from './routes/create-key.js';
import { deleteKey } from './routes/delete-key.js';
import { getKey } from './routes/get-key.js';
import { getScopes } from './routes/get-scopes.js';
import { getCredits, removeCredits, setCredits } from './routes/key-credits.js';
import { keyUsage } from './routes/key-usage.js';
import { listEvents } from './routes/list-events.js';
import { listKeys } from './routes/list-keys.js';
import { nonCompliantKeys } from './routes/non-compliant-keys.js';
import { organizationUsage } from './routes/organization-usage.js';
import { rollKey } from './routes/roll-key.js';
import { updateKey } from './routes/update-key.js';
import { createWriteLimit } from './write-limit.js';

/**
 * Creates the admin API of docs/reference.md §3 as a plain Express router (Express 4 or 5), to mount at any path.
 * Every route asks `authorize(req)` which organization the caller acts for and is confined to it;
 * errors are answered as `{ error: { code, message, details? } }`. `GET <mount>/scopes` answers the app's
 * scope catalog (for forms such as the dashboard's); `GET <mount>/events` pages the organization's audit
 * events (docs/reference.md §7), each naming the actor `authorize` returned; `GET <mount>/non-compliant`
 * lists its keys outside the lifetime policy (docs/reference.md §11). `GET <mount>/openapi.json` serves the
 * OpenAPI 3.1 document without calling `authorize` (it holds nothing of any organization).
 * A method a known path does not take (`PUT /`, `DELETE /events`) is answered 405 with `Allow`; requests
 * that match no path fall through to the host app. The document's security scheme is the app's sign-in,
 * `openapi.security`: its session cookie by name (default `connect.sid`, express-session's) or a bearer token.
 *
 * Against cross-site request forgery, every `POST`, `PATCH` and `DELETE` is checked before `authorize`:
 * a cross-site `Sec-Fetch-Site` or a foreign `Origin` (not the request's own, not in `trustedOrigins`)
 * is refused with 403, and `POST` / `PATCH` need `Content-Type: application/json` (415 otherwise, an
 * empty body included: send `{}`). A `Content-Encoding` is refused with 415.
 *
 * Writes are capped per organization (`writesPerMinute`, default 120): over the cap, 429
 * `too_many_requests` with `Retry-After`, before the body is read.
 *
 * @example
 * import express from 'express';
 * import { createAdminRouter } from '@keyward/admin';
 *
 * const app = express();
 * app.use(session(...));
 * app.use('/api/keys', createAdminRouter({
 *   keyward,
 *   authorize: (req) => (req.session.user ? { organizationId: req.session.user.orgId } : null),
 *   openapi: { security: { type: 'cookie', name: 'connect.sid' } },
 * }));
 */
export function createAdminRouter(options: AdminRouterOptions): Router {
  const { keyward, authorize, trustedOrigins, writesPerMinute, writeLimitStore, openapi, grantableScopes } =
    resolveAdminOptions(options);
  const context: EndpointContext = {
    keyward,
    authorize,
    guard: createRequestGuard(trustedOrigins),
    readBody: createBodyReader(),
    ...(writesPerMinute !== false && { limitWrites: createWriteLimit(writesPerMinute, writeLimitStore) }),
  };
  const write = { readsBody: true, writes: true };
  const router = express.Router();

  // Wrong methods on known paths: 405 with `Allow`, before `/:id` can read `events` as an id.
  router.use(methodNotAllowed());
  router.get(
    '/openapi.json',
    createOpenApiHandler({
      scopes: keyward.scopes,
      security: openapi.security,
      plans: keyward.plans,
    }),
  );
  // Fixed paths are registered before `/:id`, so they are never read as ids.
  router.get('/scopes', endpoint(context, getScopes(grantableScopes)));
  router.get('/events', endpoint(context, listEvents));
  router.get('/usage', endpoint(context, organizationUsage));
  router.get('/non-compliant', endpoint(context, nonCompliantKeys));

  router.get('/', endpoint(context, listKeys));
  router.post(
    '/',
    endpoint(context, operatorFields(onlyGrantable(createKey, grantableScopes, 'create')), write),
  );
  router.get('/:id', endpoint(context, getKey));
  router.get('/:id/usage', endpoint(context, keyUsage));
  router.patch(
    '/:id',
    endpoint(context, operatorFields(onlyGrantable(updateKey, grantableScopes, 'update')), write),
  );
  // Credits (docs/reference.md §10): customers read them; only the operator sets them.
  router.get('/:id/credits', endpoint(context, getCredits));
  router.put('/:id/credits', endpoint(context, setCredits, write));
  router.delete('/:id/credits', endpoint(context, removeCredits, { writes: true }));
  router.post('/:id/roll', endpoint(context, rollKey, write));
  router.delete('/:id', endpoint(context, deleteKey, { writes: true }));
  router.use(createErrorHandler());
  return router;
}
