import type { RouteInput, RouteResult } from '../endpoint.js';

/**
 * `run` under the request's `Idempotency-Key` (when it has one): the same key with the same route, key id,
 * body and `If-Match` within 24 h answers the first answer (status, body with its token, headers) and does
 * nothing again; another request with that key is 422 `idempotency_key_reused`. See core's `idempotent`.
 */
export function withIdempotency(
  input: RouteInput,
  route: string,
  run: () => Promise<RouteResult>,
): Promise<RouteResult> {
  const key = input.header('idempotency-key');
  if (key === undefined) return run();
  const request = {
    route,
    id: input.id,
    body: input.body === undefined ? null : input.body,
    ifMatch: input.header('if-match') ?? null,
  };
  return input.keyward.idempotent(input.organizationId, key, request, run);
}
