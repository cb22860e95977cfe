import type { RouteHandler } from '../endpoint.js';
import { createKeyBody, parseBody } from '../schemas.js';
import { serializeKey } from '../serialize.js';

/**
 * `POST /` `{ name, type, scopes?, expiresAt? }` — 201 `{ data: Key, token }`; the token is shown once.
 *
 * @example
 * router.post('/', endpoint(context, createKey, { readsBody: true }));
 */
export const createKey: RouteHandler = async ({ keyward, organizationId, body }) => {
  const input = parseBody(createKeyBody, body);
  const { key, token } = await keyward.createKey(organizationId, input);
  return { status: 201, body: { data: serializeKey(key), token } };
};
