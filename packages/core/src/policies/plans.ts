import type { PlanCredits } from '../credits/credit-policy.js';
import { creditsInputSchema } from '../credits/credit-schemas.js';
import type { KeyLimit, StoredKey } from '../shared/types.js';
import { limitsSchema } from './policy-schemas.js';

/** A named plan of the app (docs/reference.md §10): limits, and later credits, that keys and organizations use. */
export interface PlanDefinition {
  /** The plan's limits, as a key's own (up to 3, distinct windows, each `per` key, owner or organization). */
  limits: KeyLimit[];
  /** Credits each key on the plan spends (docs/reference.md §10), unless the key has credits of its own. */
  credits?: PlanCredits;
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
    const rawCredits = (plan as { credits?: unknown }).credits;
    const credits = creditsInputSchema.safeParse(rawCredits ?? null);
    if (!credits.success) {
      throw new TypeError(
        `Keyward: plans.${name}.credits must be { remaining, refill?: { amount, intervalSeconds } }`,
      );
    }
    plans.set(
      name,
      Object.freeze({
        limits: limits.data.map((l) => Object.freeze({ ...l })),
        ...(credits.data ? { credits: Object.freeze({ ...credits.data }) } : {}),
      }),
    );
  }
  return plans;
}

/**
 * The limits a key is held to (docs/reference.md §10): those of its plan (else of its organization's plan) and its
 * own, both enforced, so that a key's own limits can tighten its plan's but never loosen them. Where both
 * have a limit of the same window counted for the same party, the tighter one is kept (one counter each).
 * A plan name the app no longer defines gives no limits (verify must never throw on a stored key).
 */
export function effectiveLimits(
  key: Pick<StoredKey, 'limits' | 'plan'>,
  plans: ReadonlyMap<string, Readonly<PlanDefinition>>,
  organizationPlan: string | null,
): readonly KeyLimit[] {
  const own = key.limits ?? [];
  const name = key.plan ?? organizationPlan;
  const planned = (name !== null && plans.get(name)?.limits) || [];
  if (planned.length === 0) return own;
  if (own.length === 0) return planned;
  const merged = new Map<string, KeyLimit>();
  for (const limit of [...planned, ...own]) {
    const slot = `${limit.per ?? 'key'}:${limit.windowSeconds}`;
    const earlier = merged.get(slot);
    if (earlier === undefined || limit.limit < earlier.limit) merged.set(slot, limit);
  }
  return [...merged.values()];
}
