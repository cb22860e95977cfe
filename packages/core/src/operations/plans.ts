import { planNameSchema } from '../schemas/schemas.js';
import { KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import { storeCall } from '../store/store-call.js';
import { checkOrganization, type OperationContext } from './context.js';

/** `keyward.setOrganizationPlan`: this instance at once, others through the store's change feed. */
export async function setOrganizationPlan(
  ctx: OperationContext,
  organizationId: string,
  plan: string | null,
): Promise<void> {
  checkOrganization(organizationId);
  const { store, plans } = ctx.options;
  const name = parseInput(planNameSchema, plan);
  if (name !== null && !plans.has(name)) {
    throw new KeywardError('validation_error', { details: [{ path: 'plan', message: 'Unknown plan.' }] });
  }
  const set = store.setOrganizationPlan;
  if (!set) throw new TypeError('Keyward: the store does not implement setOrganizationPlan');
  await storeCall('setOrganizationPlan', () => set.call(store, organizationId, name));
  // This instance at once (also without a change feed); other instances through the store's feed.
  ctx.cache.clear();
}

/** `keyward.getOrganizationPlan`: `null` when none (or the store keeps no plans). */
export async function getOrganizationPlan(
  ctx: OperationContext,
  organizationId: string,
): Promise<string | null> {
  checkOrganization(organizationId);
  const { store } = ctx.options;
  const get = store.getOrganizationPlan;
  return get ? storeCall('getOrganizationPlan', () => get.call(store, organizationId)) : null;
}
