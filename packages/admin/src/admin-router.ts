import type { Router } from 'express';
import express from 'express';
import { createBodyReader } from './body.js';
import { type EndpointContext, endpoint } from './endpoint.js';
import { createErrorHandler } from './error-handler.js';
import { onlyGrantable } from './grantable-scopes.js';
import { createOpenApiHandler } from './openapi.js';
import { type AdminRouterOptions, resolveAdminOptions } from './options.js';
import { createRequestGuard } from './request-guard.js';
import { createKey } from './routes/create-key.js';
import { deleteKey } from './routes/delete-key.js';
import { getKey } from './routes/get-key.js';
import { getScopes } from './routes/get-scopes.js';
import { listEvents } from './routes/list-events.js';
import { listKeys } from './routes/list-keys.js';
import { rollKey } from './routes/roll-key.js';
import { updateKey } from './routes/update-key.js';

/**
 * Creates the admin API of contract §3 as a plain Express router (Express 4 or 5), to mount at any path.
 * Every route asks `authorize(req)` which organization the caller acts for and is confined to it;
 * errors are answered as `{ error: { code, message, details? } }`. `GET <mount>/scopes` answers the app's
 * scope catalog (for forms such as the dashboard's); `GET <mount>/events` pages the organization's audit
 * events (contract §7), each naming the actor `authorize` returned. `GET <mount>/openapi.json` serves the
 * OpenAPI 3.1 document without calling `authorize` (it holds nothing of any organization).
 * Requests that match no route fall through to the host app.
 *
 * Against cross-site request forgery, every `POST`, `PATCH` and `DELETE` is checked before `authorize`:
 * a cross-site `Sec-Fetch-Site` or a foreign `Origin` (not the request's own, not in `trustedOrigins`)
 * is refused with 403, and `POST` / `PATCH` need `Content-Type: application/json` (415 otherwise, an
 * empty body included: send `{}`). A `Content-Encoding` is refused with 415.
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
 * }));
 */
export function createAdminRouter(options: AdminRouterOptions): Router {
  const { keyward, authorize, trustedOrigins, grantableScopes } = resolveAdminOptions(options);
  const context: EndpointContext = {
    keyward,
    authorize,
    guard: createRequestGuard(trustedOrigins),
    readBody: createBodyReader(),
  };
  const router = express.Router();

  router.get('/openapi.json', createOpenApiHandler({ scopes: keyward.scopes, plans: keyward.plans }));
  // Fixed paths are registered before `/:id`, so they are never read as ids.
  router.get('/scopes', endpoint(context, getScopes));
  router.get('/events', endpoint(context, listEvents));

  router.get('/', endpoint(context, listKeys));
  router.post(
    '/',
    endpoint(context, onlyGrantable(createKey, grantableScopes, 'create'), { readsBody: true }),
  );
  router.get('/:id', endpoint(context, getKey));
  router.patch(
    '/:id',
    endpoint(context, onlyGrantable(updateKey, grantableScopes, 'update'), { readsBody: true }),
  );
  router.post('/:id/roll', endpoint(context, rollKey, { readsBody: true }));
  router.delete('/:id', endpoint(context, deleteKey));
  router.use(createErrorHandler());
  return router;
}
