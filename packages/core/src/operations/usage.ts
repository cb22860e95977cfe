import type { KeyUsage, OrganizationUsage, UsageQuery } from '../schemas/usage-schemas.js';
import { storeCall } from '../store/store-call.js';
import type { OperationContext } from './context.js';
import { topKeys, type UsageRange, usageBuckets, usageRange } from './usage-report.js';

/** `keyward.keyUsage`: `null` for an unknown, deleted or other organization's id. */
export async function keyUsage(
  ctx: OperationContext,
  organizationId: string,
  id: string,
  query: UsageQuery | undefined,
): Promise<KeyUsage | null> {
  const { store, clock } = ctx.options;
  const range = usageRange(query, clock());
  const key = await storeCall('findById', () => store.findById(organizationId, id));
  if (!key) return null;
  const rows = await readUsage(ctx, { organizationId, keyId: id, ...range });
  return { data: usageBuckets(rows, range), granularity: range.granularity };
}

/** `keyward.usage`: the organization's usage (every key summed) with its most used keys. */
export async function organizationUsage(
  ctx: OperationContext,
  organizationId: string,
  query: UsageQuery | undefined,
): Promise<OrganizationUsage> {
  const range = usageRange(query, ctx.options.clock());
  const rows = await readUsage(ctx, { organizationId, ...range });
  return { data: usageBuckets(rows, range), granularity: range.granularity, topKeys: topKeys(rows) };
}

/** The store's usage rows of an organization's range (none when the store keeps no usage). */
async function readUsage(
  ctx: OperationContext,
  query: {
    organizationId: string;
    keyId?: string;
    granularity: UsageRange['granularity'];
    from: number;
    to: number;
  },
) {
  const { store } = ctx.options;
  const read = store.readUsage;
  if (!read) return [];
  const { from, to, ...rest } = query;
  const rows = await storeCall('readUsage', () =>
    read.call(store, { ...rest, from: new Date(from), to: new Date(to) }),
  );
  return query.keyId === undefined ? rows : rows.filter((r) => r.keyId === query.keyId);
}
