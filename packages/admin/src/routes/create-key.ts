import type { CreateKeyInput } from '@keyward/core';
import { serializeKey } from '@keyward/core/schemas';
import type { RouteHandler } from '../endpoint.js';
import { withIdempotency } from './idempotency.js';

/**
 * `POST /` `{ name, type, scopes?, expiresAt? }` — 201 `{ data: Key, token }`; the token is shown once.
 * The body goes to the service as it came: the service parses it with core's `createKeyInputSchema`, the
 * one definition of the rules (the OpenAPI document is generated from it too). An empty body is 400 (body.ts).
 * With `Idempotency-Key`, a retry of the same request within 24 h answers the same key and token.
 *
 * @example
 * router.post('/', endpoint(context, createKey, { readsBody: true }));
 */
export const createKey: RouteHandler = (input) =>
  withIdempotency(input, 'POST /', async () => {
    const { keyward, organizationId, body, context } = input;
    // Unchecked here on purpose: `createKey` validates its input at run time (400 `validation_error`).
    const { key, token } = await keyward.createKey(
      organizationId,
      (body === undefined ? {} : body) as CreateKeyInput,
      context,
    );
    return { status: 201, body: { data: serializeKey(key), token } };
  });
