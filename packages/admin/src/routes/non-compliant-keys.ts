import type { ApiKey } from '@keyward/core';
import type { RouteHandler } from '../endpoint.js';

/**
 * A key outside the lifetime policy on the wire: its id and why, in words.
 *
 * @example
 * const { data }: { data: NonCompliantKeyJSON[] } = await (await fetch('/api/keys/non-compliant')).json();
 */
export interface NonCompliantKeyJSON {
  id: string;
  reason: string;
}

/**
 * `GET /non-compliant` — 200 `{ data: [{ id, reason }] }`: the organization's keys (not rolled, not
 * deleted) whose expiry the lifetime policy would refuse if it were written now — keys made before a
 * tighter policy (docs/reference.md §11, `keyward.nonCompliantKeys`), oldest first. The dashboard flags
 * them in its table.
 *
 * @example
 * router.get('/non-compliant', endpoint(context, nonCompliantKeys));
 */
export const nonCompliantKeys: RouteHandler = async ({ keyward, organizationId }) => {
  const keys = await keyward.nonCompliantKeys(organizationId);
  const data: NonCompliantKeyJSON[] = keys.map((key) => ({ id: key.id, reason: reasonOf(key) }));
  return { status: 200, body: { data } };
};

function reasonOf(key: ApiKey): string {
  const type = key.type === 'secret' ? 'Secret' : 'Public';
  return key.expiresAt === null
    ? `Never expires, but the lifetime policy says ${type.toLowerCase()} keys must expire.`
    : `${type} keys may not be set to expire this far ahead any more (lifetime policy).`;
}
