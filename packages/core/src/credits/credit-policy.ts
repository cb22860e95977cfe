import type { CreditPolicy, CreditRefill } from '../shared/credit-types.js';
import type { StoredKey } from '../shared/types.js';

/** A plan's credits (docs/reference.md §10): each key on the plan has its own balance of them. */
export interface PlanCredits {
  /** The balance of a key on the plan (without `refill`: once; with it: until the first refill). */
  remaining: number;
  /** Every `intervalSeconds` (aligned to the Unix epoch, UTC) the balance is set back to `amount`. */
  refill?: CreditRefill | null;
}

/**
 * The credits a key spends (docs/reference.md §10), or `null`: its own when the operator set them, else its
 * plan's (the key's plan, else its organization's). Accounts are named by the roll chain's first key, so a
 * rolled key and its successor share the balance, and by the grant, so that setting credits starts afresh.
 * Never a token or hash.
 *
 * @example
 * const credits = creditPolicy(storedKey, plan?.credits ?? null, plan ? 'pro' : null);
 */
export function creditPolicy(
  key: Pick<StoredKey, 'id' | 'lineageId' | 'credits'>,
  planCredits: PlanCredits | null,
  planName: string | null,
): CreditPolicy | null {
  const lineage = key.lineageId ?? key.id;
  const own = key.credits;
  if (own) {
    return Object.freeze({
      account: `credits:${lineage}:${own.grantId}`,
      remaining: own.remaining,
      refill: own.refill ? Object.freeze({ ...own.refill }) : null,
      anchorMs: own.grantedAt.getTime(),
    });
  }
  if (planCredits === null || planName === null) return null;
  return Object.freeze({
    account: `credits:${lineage}:plan.${planName}`,
    remaining: planCredits.remaining,
    refill: planCredits.refill ? Object.freeze({ ...planCredits.refill }) : null,
    // Plans refill on boundaries aligned to the epoch (UTC days for 86400 seconds).
    anchorMs: 0,
  });
}
