import { isIP } from 'node:net';
import type { EventContext, Keyward } from '@keyward/core';
import type { RequestHandler } from 'express';
import { authorizeCaller } from './authorize.js';
import type { BodyReader } from './body.js';
import type { Authorize } from './options.js';
import type { RequestGuard } from './request-guard.js';
import type { WriteLimit } from './write-limit.js';

/**
 * What a route handler gets: the service, the caller's organization, the `:id` and the parsed body.
 *
 * @example
 * const input: RouteInput = { keyward, organizationId: 'org_1', id: 'key_0123456789ABCDEFGHIJ', body: undefined };
 */
export interface RouteInput {
  keyward: Keyward;
  organizationId: string;
  /** The `:id` path parameter (`""` on routes without one). */
  id: string;
  /** The JSON body, `undefined` when the request had none (or the route reads none). */
  body: unknown;
  /** The parsed query string (`req.query`), for the service to parse. */
  query: unknown;
  /** Who acts (from `authorize`) and from where (`req.ip`, `User-Agent`), for the audit events. */
  context: EventContext;
  /** A request header by name (case-insensitive), e.g. `If-Match`; `undefined` when absent. */
  header: (name: string) => string | undefined;
  /** Whether `authorize` named the caller the app's operator (docs/reference.md §10: plans and credits). */
  operator?: boolean;
}

/**
 * What a route handler answers; `body: undefined` sends no body (204).
 *
 * @example
 * const result: RouteResult = { status: 204 };
 */
export interface RouteResult {
  status: number;
  body?: unknown;
  /** Response headers, e.g. `ETag`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A route: parse the input, call the service, serialize the answer. Errors are thrown.
 *
 * @example
 * const ping: RouteHandler = async () => ({ status: 200, body: { ok: true } });
 */
export type RouteHandler = (input: RouteInput) => Promise<RouteResult>;

/**
 * What every endpoint of one router shares.
 *
 * @example
 * const context: EndpointContext = { keyward, authorize, guard: createRequestGuard([]), readBody: createBodyReader() };
 */
export interface EndpointContext {
  keyward: Keyward;
  authorize: Authorize;
  /** Refuses cross-site and non-JSON requests before anything else runs. */
  guard: RequestGuard;
  readBody: BodyReader;
  /** Counts a write against its organization's cap (429 over it); absent when writes are not capped. */
  limitWrites?: WriteLimit;
}

/**
 * Wraps a route handler into Express middleware that works on Express 4 and 5. In this order: the request
 * guard (403 for a cross-site write, 415 for a compressed or non-JSON body), `authorize` (401 / 403), the
 * organization's write cap when `writes` (429), the body when `readsBody` (413, 400), then the handler; its result is sent with `Cache-Control: no-store`.
 * Any rejection goes to `next(err)`, so the router's error handler answers it.
 *
 * @example
 * router.post('/', endpoint(context, createKey, { readsBody: true }));
 */
export function endpoint(
  context: EndpointContext,
  handler: RouteHandler,
  { readsBody = false, writes = false }: { readsBody?: boolean; writes?: boolean } = {},
): RequestHandler {
  const { keyward, authorize, guard, readBody } = context;
  const limitWrites = writes ? context.limitWrites : undefined;
  return function keywardAdminEndpoint(req, res, next) {
    res.set('Cache-Control', 'no-store');
    const run = async () => {
      guard(req, { readsBody });
      const { organizationId, actor, operator } = await authorizeCaller(authorize, req);
      if (limitWrites) await limitWrites(req, res, organizationId);
      const body = readsBody ? await readBody(req, res) : undefined;
      const id = typeof req.params.id === 'string' ? req.params.id : '';
      const context = requestContext(req, actor);
      const header = (name: string) => req.get(name);
      const input = { keyward, organizationId, id, body, query: req.query, context, header, operator };
      const result = await handler(input);
      if (result.headers) res.set(result.headers);
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    };
    run().catch(next);
  };
}

/**
 * The event context of a request: the actor, `req.ip` and the `User-Agent` header (when present). `req.ip`
 * is kept only when it is an IP address: behind `trust proxy`, it is whatever the client wrote in
 * `X-Forwarded-For`, and the audit log must not record (or a page show) arbitrary text as an address.
 */
function requestContext(req: Parameters<RequestHandler>[0], actor: EventContext['actor']): EventContext {
  const context: EventContext = { ...(actor && { actor }) };
  if (typeof req.ip === 'string' && isIP(req.ip) !== 0) context.ip = req.ip;
  const userAgent = req.get('user-agent');
  if (typeof userAgent === 'string' && userAgent !== '') context.userAgent = userAgent;
  return context;
}
