import type { RollKeyInput } from '@keyward/core';
import { serializeKey } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';
import { etagHeader, ifMatch } from './etag.js';
import { withIdempotency } from './idempotency.js';

/**
 * `POST /:id/roll` `{ gracePeriodSeconds? }` (`{}`: the defaults; no body is 400) — 201 `{ data: Key, token, previous: Key }`.
 * The service parses the body with core's `rollKeyInputSchema` (shape first, then the key's existence).
 * With `If-Match`, 412 `precondition_failed` if the key changed since; `ETag` is the new key's. With
 * `Idempotency-Key`, a retry of the same request within 24 h answers the same new key and token.
 *
 * @example
 * router.post('/:id/roll', endpoint(context, rollKey, { readsBody: true }));
 */
export const rollKey: RouteHandler = (input) =>
  withIdempotency(input, 'POST /:id/roll', async () => {
    const { keyward, organizationId, id, body, context, header } = input;
    // Unchecked here on purpose: `rollKey` validates its options at run time (400 `validation_error`).
    const { key, token, previous } = await keyward.rollKey(
      organizationId,
      id,
      (body === undefined ? {} : body) as RollKeyInput,
      context,
      ifMatch(header),
    );
    return {
      status: 201,
      body: { data: serializeKey(key), token, previous: serializeKey(previous) },
      // The new key's tag, as `GET /:id` of the new key answers it.
      headers: etagHeader(key, { data: serializeKey(key) }),
    };
  });
