/**
 * The outcomes usage is counted by (docs/reference.md §9): `admitted`, and every refusal that can be attributed to
 * a key. The order is the index of each outcome's counter in an instance's in-process bucket.
 */
export const USAGE_OUTCOMES = Object.freeze([
  'admitted',
  'disabled_api_key',
  'expired_api_key',
  'insufficient_scope',
  'secret_key_required',
  'ip_not_allowed',
  'origin_not_allowed',
  'rate_limited',
  'credits_exhausted',
] as const);

/** One outcome of a verification that named an existing key. */
export type UsageOutcome = (typeof USAGE_OUTCOMES)[number];

/** A refusal code counted by usage. */
export type UsageRefusalCode = Exclude<UsageOutcome, 'admitted'>;

/** The size of a usage bucket, and how long each size is kept. */
export type UsageGranularity = 'minute' | 'hour' | 'day';

/** Milliseconds of one bucket of each granularity (UTC; a day is 24 hours). */
export const GRANULARITY_MS: Readonly<Record<UsageGranularity, number>> = Object.freeze({
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
});

/** How long buckets of each granularity are kept: minutes 48 h, hours 90 days, days 400 days. */
export const USAGE_RETENTION_MS: Readonly<Record<UsageGranularity, number>> = Object.freeze({
  minute: 48 * 3_600_000,
  hour: 90 * 86_400_000,
  day: 400 * 86_400_000,
});

const INDEX = new Map<string, number>(USAGE_OUTCOMES.map((o, i) => [o, i]));

/** The counter index of an outcome, or -1 for a code that is not counted (e.g. `invalid_api_key`). */
export function outcomeIndex(code: string): number {
  return INDEX.get(code) ?? -1;
}

/** The start of the bucket of `granularity` that holds `ms`. */
export function bucketStart(ms: number, granularity: UsageGranularity): number {
  const size = GRANULARITY_MS[granularity];
  return Math.floor(ms / size) * size;
}
