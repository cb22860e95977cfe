import type { KeyLimit, StoredKey } from '../shared/types.js';
import { limitsSchema } from './policy-schemas.js';

/** A named plan of the app (docs/reference.md §10): limits, and later credits, that keys and organizations use. */
export interface PlanDefinition {
  /** The plan's limits, as a key's own (up to 3, distinct windows, each `per` key, owner or organization). */
  limits: KeyLimit[];
}

/** The app's plans by name. */
export type PlansOption = Record<string, PlanDefinition>;

/** A plan name: letters, digits, `_`, `-` and `.`, 1 to 64 characters. */
export const PLAN_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** The plans, checked once at start-up (TypeError), frozen. */
export function resolvePlans(value: unknown): ReadonlyMap<string, Readonly<PlanDefinition>> {
  const plans = new Map<string, Readonly<PlanDefinition>>();
  if (value === undefined) return plans;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('Keyward: plans must be an object of { [name]: { limits } }');
  }
  for (const [name, plan] of Object.entries(value)) {
    if (!PLAN_NAME_PATTERN.test(name)) {
      throw new TypeError(`Keyward: plan name "${name}" must match ${PLAN_NAME_PATTERN.source}`);
    }
    const limits = limitsSchema.safeParse((plan as { limits?: unknown } | null)?.limits);
    if (!limits.success) {
      throw new TypeError(`Keyward: plans.${name}.limits must be up to 3 { limit, windowSeconds, per? }`);
    }
    plans.set(name, Object.freeze({ limits: limits.data.map((l) => Object.freeze({ ...l })) }));
  }
  return plans;
}

/**
 * The limits a key is held to (docs/reference.md §10): its own when it has any, else those of its plan, else those
 * of its organization's plan. A plan name the app no longer defines gives no limits (and is logged by the
 * caller's tests, not here: verify must never throw on a stored key).
 */
export function effectiveLimits(
  key: Pick<StoredKey, 'limits' | 'plan'>,
  plans: ReadonlyMap<string, Readonly<PlanDefinition>>,
  organizationPlan: string | null,
): readonly KeyLimit[] {
  if ((key.limits ?? []).length > 0) return key.limits;
  const name = key.plan ?? organizationPlan;
  return (name !== null && plans.get(name)?.limits) || [];
}
