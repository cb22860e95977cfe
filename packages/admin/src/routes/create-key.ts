import { type CreateKeyInput, serializeKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * `POST /` `{ name, type, scopes?, expiresAt? }` — 201 `{ data: Key, token }`; the token is shown once.
 * The body goes to the service as it came: the service parses it with core's `createKeyInputSchema`, the
 * one definition of the rules (the OpenAPI document is generated from it too). No body reads as `{}`.
 *
 * @example
 * router.post('/', endpoint(context, createKey, { readsBody: true }));
 */
export const createKey: RouteHandler = async ({ keyward, organizationId, body, context }) => {
  // Unchecked here on purpose: `createKey` validates its input at run time (400 `validation_error`).
  const { key, token } = await keyward.createKey(
    organizationId,
    (body === undefined ? {} : body) as CreateKeyInput,
    context,
  );
  return { status: 201, body: { data: serializeKey(key), token } };
};
