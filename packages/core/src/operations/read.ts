import { isKeyId } from '../format/ids.js';
import { type ExpiringKeysQuery, parseExpiringQuery } from '../lifecycle/expiring.js';
import { isNonCompliant } from '../lifecycle/lifetime.js';
import { DEFAULT_PAGE_SIZE, encodeKeyListCursor, listKeysQuerySchema } from '../schemas/schemas.js';
import { toApiKey } from '../schemas/serialize.js';
import { parseInput } from '../shared/parse-input.js';
import type { ApiKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';
import type { KeyPage } from './api.js';
import { checkOrganization, type OperationContext } from './context.js';

/** `keyward.listKeys`: one page of the organization's keys, newest first. */
export async function listKeys(
  ctx: OperationContext,
  organizationId: string,
  query: unknown = {},
): Promise<KeyPage> {
  checkOrganization(organizationId);
  const { store, clock } = ctx.options;
  const {
    limit = DEFAULT_PAGE_SIZE,
    cursor,
    q,
    type,
    status,
    owner,
  } = parseInput(listKeysQuerySchema, query);
  const now = clock();
  // One more than asked: whether it exists says whether there is a next page.
  const keys = await storeCall('list', () =>
    store.list(organizationId, {
      limit: limit + 1,
      now: new Date(now),
      ...(cursor && { after: cursor }),
      ...(q && { q }),
      ...(type && { type }),
      ...(status && { status }),
      ...(owner && { owner }),
    }),
  );
  const page = keys.slice(0, limit);
  const last = page.at(-1);
  return {
    keys: page.map((k) => toApiKey(k, now)),
    nextCursor: keys.length > limit && last ? encodeKeyListCursor(last) : null,
  };
}

/** `keyward.getKey`: `null` for an unknown, malformed, deleted or other organization's id. */
export async function getKey(
  ctx: OperationContext,
  organizationId: string,
  id: string,
): Promise<ApiKey | null> {
  checkOrganization(organizationId);
  if (!isKeyId(id)) return null;
  const { store, clock } = ctx.options;
  const key = await storeCall('findById', () => store.findById(organizationId, id));
  return key ? toApiKey(key, clock()) : null;
}

/** `keyward.expiringKeys`: keys that expire within `within` ms from now, soonest first. */
export async function expiringKeys(ctx: OperationContext, query: ExpiringKeysQuery): Promise<ApiKey[]> {
  const { within, organizationId, limit } = parseExpiringQuery(query);
  if (organizationId !== undefined) checkOrganization(organizationId);
  const { store, clock } = ctx.options;
  const now = clock();
  const listExpiring = store.listExpiring;
  if (!listExpiring) throw new TypeError('Keyward: the store does not implement listExpiring');
  const keys = await storeCall('listExpiring', () =>
    listExpiring.call(store, {
      from: new Date(now),
      until: new Date(now + within),
      limit,
      ...(organizationId !== undefined && { organizationId }),
    }),
  );
  return keys.map((k) => toApiKey(k, now));
}

/** `keyward.nonCompliantKeys`: keys whose expiry the lifetime policy would refuse now, oldest first. */
export async function nonCompliantKeys(ctx: OperationContext, organizationId: string): Promise<ApiKey[]> {
  checkOrganization(organizationId);
  const { store, clock, lifetime } = ctx.options;
  const now = clock();
  const keys = await storeCall('list', () => store.list(organizationId));
  return keys
    .filter((k) => !k.rolledAt && isNonCompliant(lifetime, k, now))
    .reverse()
    .map((k) => toApiKey(k, now));
}
