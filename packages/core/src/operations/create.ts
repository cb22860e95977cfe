import type { EventContext } from '../events/events.js';
import { newKeyExpiry, serviceKeyExpiry } from '../lifecycle/lifetime.js';
import { createKeyInputSchema } from '../schemas/schemas.js';
import { toApiKey } from '../schemas/serialize.js';
import { DuplicateKeyError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { ApiKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';
import type { KeyWithToken } from './api.js';
import {
  checkOrganization,
  checkRoom,
  checkSemantics,
  creatorOf,
  newKey,
  type OperationContext,
  unique,
} from './context.js';

/** The name of the key every organization gets when provisioned. */
export const DEFAULT_KEY_NAME = 'Default API Key';

/** `keyward.provisionOrganization`: the organization's public default key, created once. */
export async function provisionOrganization(
  ctx: OperationContext,
  organizationId: string,
): Promise<{ created: boolean; key: ApiKey | null }> {
  checkOrganization(organizationId);
  const { options } = ctx;
  const slot = `default:${organizationId}`;
  const { key } = newKey(ctx, organizationId, {
    name: DEFAULT_KEY_NAME,
    type: 'public',
    scopes: options.scopes.defaults('public'),
    // Inside the lifetime policy from the start (docs/reference.md §11), even with a `max` and no `default`.
    expiresAt: serviceKeyExpiry(options.lifetime, 'public', options.clock()),
    isDefault: true,
    slot,
    limits: options.limits.defaults.public,
    allowedOrigins: [],
    allowedIps: [],
  });
  try {
    await ctx.write.insert(key, 'key.created');
    return { created: true, key: toApiKey(key, options.clock()) };
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
  }
  return { created: false, key: await currentDefault(ctx, slot) };
}

/** The organization's default key, following rolls to the key that replaced it; `null` once deleted. */
async function currentDefault(ctx: OperationContext, slot: string): Promise<ApiKey | null> {
  const { store, clock } = ctx.options;
  let key = await storeCall('findBySlot', () => store.findBySlot(slot));
  // Follow rolls to the key that replaced the original default.
  for (let hops = 0; key?.replacedBy && hops < 100; hops++) {
    const { organizationId, replacedBy } = key;
    key = await storeCall('findById', () => store.findById(organizationId, replacedBy));
  }
  return key && !key.deletedAt ? toApiKey(key, clock()) : null;
}

/** `keyward.createKey`. */
export async function createKey(
  ctx: OperationContext,
  organizationId: string,
  input: unknown,
  context?: EventContext,
): Promise<KeyWithToken> {
  checkOrganization(organizationId);
  const { options } = ctx;
  const body = parseInput(createKeyInputSchema, input);
  const scopes = body.scopes === undefined ? options.scopes.defaults(body.type) : unique(body.scopes);
  const allowedOrigins = unique(body.allowedOrigins ?? []);
  const allowedIps = unique(body.allowedIps ?? []);
  const expiresAt = newKeyExpiry(options.lifetime, body.type, body.expiresAt, options.clock());
  // The app's defaults obey its maximum (checked at start-up); only limits the caller names are judged.
  checkSemantics(
    ctx,
    {
      scopes,
      expiresAt,
      allowedOrigins,
      ...(body.limits && { limits: body.limits }),
      ...(body.plan !== undefined && { plan: body.plan }),
    },
    body.type,
  );
  const { key, token } = newKey(ctx, organizationId, {
    name: body.name,
    type: body.type,
    scopes,
    expiresAt,
    isDefault: false,
    // A key on a plan follows the plan's limits unless it is given its own.
    limits: body.limits ?? (typeof body.plan === 'string' ? [] : options.limits.defaults[body.type]),
    allowedOrigins,
    allowedIps,
    plan: body.plan ?? null,
    meta: body.meta ?? null,
    owner: body.owner ?? null,
    createdBy: creatorOf(context),
  });
  await checkRoom(ctx, organizationId, 1);
  await ctx.write.insert(key, 'key.created', context);
  return { key: toApiKey(key, options.clock()), token };
}
