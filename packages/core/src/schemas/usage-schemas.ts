import { z } from 'zod';
import { USAGE_OUTCOMES } from '../usage/usage-outcomes.js';
import { dateTimeSchema } from './schemas.js';

/** At most this many buckets in one usage answer (48 h of minutes); a longer range is a 400. */
export const MAX_USAGE_BUCKETS = 2880;

/** At most this many keys in an organization's `topKeys`. */
export const USAGE_TOP_KEYS = 10;

/**
 * The query of `GET <admin>/:id/usage` and `GET <admin>/usage` (docs/reference.md §9): `from` (inclusive) and `to`
 * (exclusive), RFC 3339, rounded down to the granularity; `granularity` `minute`, `hour` (default) or
 * `day`. Without `to`, now; without `from`, 24 buckets before `to`. The service checks `from < to` and the
 * number of buckets (`MAX_USAGE_BUCKETS`).
 *
 * @example
 * usageQuerySchema.parse({ from: '2030-01-01T00:00:00Z', granularity: 'day' });
 */
export const usageQuerySchema = z.strictObject(
  {
    from: dateTimeSchema.optional().meta({ description: 'Start (inclusive), rounded down to a bucket.' }),
    to: dateTimeSchema
      .optional()
      .meta({ description: 'End (exclusive), rounded up to a bucket; default now.' }),
    granularity: z
      .enum(['minute', 'hour', 'day'], { error: 'Must be "minute", "hour" or "day".' })
      .optional()
      .meta({
        description: 'Bucket size (default hour). Minutes are kept 48 hours, hours 90 days, days 400 days.',
      }),
  },
  { error: 'Must be an object.' },
);

/** Input of `Keyward.usage` and `Keyward.keyUsage`. */
export type UsageQuery = z.input<typeof usageQuerySchema>;

const refusedSchema = z
  .strictObject(
    Object.fromEntries(USAGE_OUTCOMES.slice(1).map((code) => [code, z.number().int().optional()])) as Record<
      Exclude<(typeof USAGE_OUTCOMES)[number], 'admitted'>,
      z.ZodOptional<z.ZodNumber>
    >,
  )
  .meta({ description: 'Refused verifications by refusal code (codes with none are left out).' });

/** One bucket on the wire. */
export const usageBucketSchema = z
  .strictObject({
    at: z.string().meta({ format: 'date-time', description: "The bucket's start (UTC)." }),
    admitted: z.number().int(),
    refused: refusedSchema,
  })
  .meta({ id: 'UsageBucket' });

/** A key's usage on the wire: `GET <admin>/:id/usage`. */
export const keyUsageSchema = z
  .strictObject({
    data: z.array(usageBucketSchema).meta({ description: 'Oldest first; empty buckets included.' }),
    granularity: z.enum(['minute', 'hour', 'day']),
  })
  .meta({ id: 'KeyUsage' });

/** An organization's usage on the wire: `GET <admin>/usage`. */
export const organizationUsageSchema = z
  .strictObject({
    data: z.array(usageBucketSchema).meta({ description: 'Oldest first; empty buckets included.' }),
    granularity: z.enum(['minute', 'hour', 'day']),
    topKeys: z
      .array(z.strictObject({ id: z.string(), admitted: z.number().int(), refused: refusedSchema }))
      .meta({
        description: `The most used keys of the range (admitted + refused), at most ${USAGE_TOP_KEYS}.`,
      }),
  })
  .meta({ id: 'OrganizationUsage' });

/** One bucket of usage. */
export type UsageBucketJSON = z.output<typeof usageBucketSchema>;
/** A key's usage. */
export type KeyUsage = z.output<typeof keyUsageSchema>;
/** An organization's usage. */
export type OrganizationUsage = z.output<typeof organizationUsageSchema>;
