import { z } from 'zod';

// The input rules of credits (docs/reference.md §10), once: the service checks them, the admin layer parses
// with them and the OpenAPI document is generated from them.

/** The largest balance or refill amount of one key. */
export const MAX_CREDITS = 1_000_000_000_000;
/** The shortest refill interval: one minute, in seconds. */
export const MIN_REFILL_INTERVAL_SECONDS = 60;
/** The longest refill interval: 366 days, in seconds. */
export const MAX_REFILL_INTERVAL_SECONDS = 31_622_400;

const amountMessage = `Must be an integer from 0 to ${MAX_CREDITS}.`;
const intervalMessage = `Must be an integer from ${MIN_REFILL_INTERVAL_SECONDS} to ${MAX_REFILL_INTERVAL_SECONDS} (366 days).`;

const amount = z.int({ error: amountMessage }).min(0, amountMessage).max(MAX_CREDITS, amountMessage);

/**
 * A refill: every `intervalSeconds` the balance is set back to `amount` (not added to it).
 *
 * @example
 * creditRefillSchema.parse({ amount: 1000, intervalSeconds: 86400 });
 */
export const creditRefillSchema = z
  .strictObject(
    {
      amount: amount.meta({ description: 'The balance each refill sets.' }),
      intervalSeconds: z
        .int({ error: intervalMessage })
        .min(MIN_REFILL_INTERVAL_SECONDS, intervalMessage)
        .max(MAX_REFILL_INTERVAL_SECONDS, intervalMessage)
        .meta({ description: 'Seconds between refills (1 minute to 366 days).' }),
    },
    { error: 'Must be an object { amount, intervalSeconds }.' },
  )
  .meta({ description: 'Sets the balance back to `amount` every `intervalSeconds`.' });

/**
 * Credits as the operator sets them: the balance now, and an optional refill. `null` removes them.
 *
 * @example
 * creditsInputSchema.parse({ remaining: 500, refill: { amount: 500, intervalSeconds: 2592000 } });
 */
export const creditsInputSchema = z
  .strictObject(
    {
      remaining: amount.meta({ description: 'The balance from now until the next refill.' }),
      refill: creditRefillSchema.nullable().optional(),
    },
    { error: 'Must be an object { remaining, refill? } or null.' },
  )
  .nullable()
  .meta({
    description:
      'A balance of credits that admitted requests spend (429 `credits_exhausted` at zero); `null` removes it.',
  });

/** Credits as the operator sets them (`creditsInputSchema`). */
export type CreditsInput = z.infer<typeof creditsInputSchema>;

/**
 * A key's credits on the wire (`GET <admin>/:id/credits`): the balance now, the refill and when it falls.
 *
 * @example
 * creditBalanceSchema.parse({ remaining: 5, refill: null, refillsAt: null, source: 'key' });
 */
export const creditBalanceSchema = z
  .strictObject({
    remaining: z.int().min(0).meta({
      description:
        'The balance now. Credits that running app instances hold leased count as spent until they are spent or returned (about a second of idleness).',
    }),
    refill: creditRefillSchema.nullable(),
    refillsAt: z
      .string()
      .meta({ format: 'date-time' })
      .nullable()
      .meta({ description: 'When the balance is next set to `refill.amount`; `null` without a refill.' }),
    source: z
      .enum(['key', 'plan'])
      .meta({ description: '`key`: set by the operator on the key; `plan`: from its plan.' }),
  })
  .meta({ description: "A key's credits (docs/reference.md §10)." });

/** A key's credits on the wire. */
export type CreditBalanceWire = z.infer<typeof creditBalanceSchema>;

/**
 * The wire form of `keyward.getCredits`'s answer (times as ISO strings).
 *
 * @example
 * res.json({ data: balance && serializeCredits(balance) });
 */
export function serializeCredits(balance: {
  remaining: number;
  refill: { amount: number; intervalSeconds: number } | null;
  refillsAt: Date | null;
  source: 'key' | 'plan';
}): CreditBalanceWire {
  return {
    remaining: balance.remaining,
    refill: balance.refill
      ? { amount: balance.refill.amount, intervalSeconds: balance.refill.intervalSeconds }
      : null,
    refillsAt: balance.refillsAt ? balance.refillsAt.toISOString() : null,
    source: balance.source,
  };
}
