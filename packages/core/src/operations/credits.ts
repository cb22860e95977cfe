import type { ResolvedOptions } from '../config/options.js';
import { type CreditAnswer, CreditMeter, type CreditMeterSettings } from '../credits/credit-meter.js';
import { creditPolicy } from '../credits/credit-policy.js';
import { creditsInputSchema } from '../credits/credit-schemas.js';
import type { EventContext } from '../events/events.js';
import { randomBase62 } from '../format/base62.js';
import type { ChangeRecord } from '../lifecycle/write-path.js';
import type { CreditPolicy, CreditRefill } from '../shared/credit-types.js';
import { KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { StoredKey } from '../shared/types.js';
import { storeCall } from '../store/store-call.js';

/** A key's credits as the service reads them (`getCredits`, docs/reference.md §10). */
export interface KeyCreditBalance {
  /**
   * The balance now, as the store's ledger says: credits leased by running instances count as spent until
   * they are spent or returned (within about a second of idleness).
   */
  remaining: number;
  refill: CreditRefill | null;
  /** When the balance is next set to `refill.amount`; `null` without a refill. */
  refillsAt: Date | null;
  /** `key`: the operator set the key's own credits; `plan`: they come from its plan. */
  source: 'key' | 'plan';
}

/** The credit methods of the service (`Keyward`). */
export interface CreditMethods {
  /**
   * Spends `cost` credits of a verified key (`policy.credits` of its verify result; `0` only checks the
   * balance is above zero). Answered without waiting when this instance holds leased credits of the key.
   * The middleware of `@keyward/express` calls it; call it yourself only when you verify without it.
   *
   * @example
   * const answer = await keyward.spendCredits(result.policy.credits, 1);
   */
  spendCredits(credits: CreditPolicy, cost: number): CreditAnswer | Promise<CreditAnswer>;
  /**
   * The key's credits (its own, else its plan's), or `null` when it has none. 404 `not_found` for an
   * unknown id.
   *
   * @example
   * const { remaining } = (await keyward.getCredits('org_1', 'key_…')) ?? { remaining: Infinity };
   */
  getCredits(organizationId: string, id: string): Promise<KeyCreditBalance | null>;
  /**
   * Sets the key's own credits (operator only: never expose it to customers), starting afresh from
   * `remaining`; `null` removes them (the key then follows its plan's, if any). Recorded as `key.updated`
   * with `changes: ["credits"]`; every instance uses the new balance within the freshness bound.
   *
   * @example
   * await keyward.setCredits('org_1', 'key_…', { remaining: 1000, refill: { amount: 1000, intervalSeconds: 2592000 } });
   */
  setCredits(
    organizationId: string,
    id: string,
    credits: unknown,
    context?: EventContext,
  ): Promise<KeyCreditBalance | null>;
}

interface CreditServiceDeps {
  resolved: ResolvedOptions;
  settings: CreditMeterSettings;
  existing: (organizationId: string, id: string) => Promise<StoredKey>;
  change: (
    organizationId: string,
    id: string,
    changes: { credits: StoredKey['credits'] },
    options: { version: number; record: ChangeRecord },
  ) => Promise<StoredKey | null>;
  onError: (error: unknown) => void;
}

const MAX_WRITE_ATTEMPTS = 5;

/**
 * The credits part of the service (docs/reference.md §10): one `CreditMeter` per service, the operator's
 * reads and writes of a key's credits.
 */
export function createCreditService(deps: CreditServiceDeps): CreditMethods & { close(): Promise<void> } {
  const { resolved } = deps;
  const { store, clock, plans } = resolved;
  const meter = new CreditMeter(store, clock, deps.settings, deps.onError);

  async function policyOf(key: StoredKey): Promise<CreditPolicy | null> {
    if (key.credits) return creditPolicy(key, null, null);
    const getPlan = store.getOrganizationPlan;
    const planName =
      key.plan ??
      (getPlan
        ? await storeCall('getOrganizationPlan', () => getPlan.call(store, key.organizationId))
        : null);
    if (planName === null) return null;
    return creditPolicy(key, plans.get(planName)?.credits ?? null, planName);
  }

  async function balanceOf(key: StoredKey): Promise<KeyCreditBalance | null> {
    const policy = await policyOf(key);
    if (policy === null) return null;
    const { remaining, refillsAt } = await storeCall('readCredits', () => meter.balance(policy));
    return {
      remaining,
      refill: policy.refill ? { ...policy.refill } : null,
      refillsAt: refillsAt === null ? null : new Date(refillsAt),
      source: key.credits ? 'key' : 'plan',
    };
  }

  return {
    spendCredits: (credits, cost) => meter.spend(credits, cost),

    async getCredits(organizationId, id) {
      return balanceOf(await deps.existing(organizationId, id));
    },

    async setCredits(organizationId, id, credits, context) {
      const input = parseInput(creditsInputSchema, credits);
      if (input !== null && !(store.readCredits && store.leaseCredits && store.returnCredits)) {
        throw new TypeError('Keyward: credits need a store with readCredits, leaseCredits and returnCredits');
      }
      for (let attempt = 1; ; attempt++) {
        const current = await deps.existing(organizationId, id);
        const next =
          input === null
            ? null
            : {
                remaining: input.remaining,
                refill: input.refill ? { ...input.refill } : null,
                // A new grant: its balance counts from `remaining`, whatever was spent before.
                grantId: randomBase62(12),
                grantedAt: new Date(clock()),
              };
        const updated = await deps.change(
          organizationId,
          id,
          { credits: next },
          {
            version: current.version,
            record: { type: 'key.updated', keyName: current.name, context, changes: ['credits'] },
          },
        );
        if (updated !== null) {
          // What this instance leased of the old grant goes back (it is no longer spent from).
          const old = current.credits ? creditPolicy(current, null, null) : null;
          if (old) meter.forget(old.account);
          return balanceOf(updated);
        }
        if (attempt >= MAX_WRITE_ATTEMPTS) {
          throw new KeywardError('conflict', { message: 'The key was changed at the same time. Try again.' });
        }
      }
    },

    close: () => meter.close(),
  };
}
