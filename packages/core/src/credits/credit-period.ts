import type { CreditPolicy } from '../shared/credit-types.js';

/**
 * One refill period of an account: its index, its opening balance, and when it starts and ends (ms; `null`:
 * since ever, never).
 */
export interface CreditPeriod {
  index: number;
  base: number;
  /** `null` for the first period: any earlier time falls in it too. */
  startsAt: number | null;
  endsAt: number | null;
  /** The ledger chain of the period: `<account>:<index>`. */
  chain: string;
}

/**
 * The period `now` falls in (docs/reference.md §10). Without a refill there is one period, opening with
 * `remaining`. With one, periods are `intervalSeconds` long from `anchorMs`: the first opens with
 * `remaining`, every later one with `refill.amount`.
 *
 * @example
 * creditPeriod(policy, Date.now()).chain; // 'credits:key_1:g_1:3'
 */
export function creditPeriod(policy: CreditPolicy, now: number): CreditPeriod {
  const { refill } = policy;
  if (refill === null)
    return { index: 0, base: policy.remaining, startsAt: null, endsAt: null, chain: `${policy.account}:0` };
  const intervalMs = refill.intervalSeconds * 1000;
  const index = Math.max(0, Math.floor((now - policy.anchorMs) / intervalMs));
  return {
    index,
    base: index === 0 ? policy.remaining : refill.amount,
    startsAt: index === 0 ? null : policy.anchorMs + index * intervalMs,
    endsAt: policy.anchorMs + (index + 1) * intervalMs,
    chain: `${policy.account}:${index}`,
  };
}
