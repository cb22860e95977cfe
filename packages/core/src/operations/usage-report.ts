import {
  MAX_USAGE_BUCKETS,
  USAGE_TOP_KEYS,
  type UsageBucketJSON,
  type UsageQuery,
  usageQuerySchema,
} from '../schemas/usage-schemas.js';
import { KeywardError } from '../shared/errors.js';
import { parseInput } from '../shared/parse-input.js';
import type { UsageRow } from '../store/store.js';
import {
  bucketStart,
  GRANULARITY_MS,
  type UsageGranularity,
  type UsageOutcome,
  type UsageRefusalCode,
} from '../usage/usage-outcomes.js';

/** A usage query with its defaults, aligned to its granularity. */
export interface UsageRange {
  granularity: UsageGranularity;
  from: number;
  to: number;
}

/** Parses a usage query at `now` (400 `validation_error` for a bad one or too many buckets). */
export function usageRange(query: UsageQuery | undefined, now: number): UsageRange {
  const parsed = parseInput(usageQuerySchema, query ?? {});
  const granularity = parsed.granularity ?? 'hour';
  const size = GRANULARITY_MS[granularity];
  const to = Math.ceil((parsed.to?.getTime() ?? now + 1) / size) * size;
  const from = bucketStart(parsed.from?.getTime() ?? to - 24 * size, granularity);
  if (from >= to) throw invalid('from', 'Must be before `to`.');
  if ((to - from) / size > MAX_USAGE_BUCKETS)
    throw invalid('from', `At most ${MAX_USAGE_BUCKETS} buckets of this granularity in one query.`);
  return { granularity, from, to };
}

function invalid(path: string, message: string): KeywardError {
  return new KeywardError('validation_error', { details: [{ path, message }] });
}

type Counts = Partial<Record<UsageOutcome, number>>;

/** Rows as buckets: oldest first, one per bucket of the range, empty ones included. */
export function usageBuckets(rows: readonly UsageRow[], range: UsageRange): UsageBucketJSON[] {
  const size = GRANULARITY_MS[range.granularity];
  const buckets: UsageBucketJSON[] = [];
  for (let at = range.from; at < range.to; at += size)
    buckets.push({ at: new Date(at).toISOString(), admitted: 0, refused: {} });
  for (const row of rows) {
    const bucket = buckets[Math.floor((row.at.getTime() - range.from) / size)];
    if (bucket) add(bucket, row.counts);
  }
  return buckets;
}

/** The most used keys of the rows (admitted + refused), at most `USAGE_TOP_KEYS`. */
export function topKeys(rows: readonly UsageRow[]): Array<{ id: string } & Omit<UsageBucketJSON, 'at'>> {
  const byKey = new Map<string, { id: string; admitted: number; refused: UsageBucketJSON['refused'] }>();
  for (const row of rows) {
    let entry = byKey.get(row.keyId);
    if (!entry) {
      entry = { id: row.keyId, admitted: 0, refused: {} };
      byKey.set(row.keyId, entry);
    }
    add(entry, row.counts);
  }
  const total = (e: { admitted: number; refused: UsageBucketJSON['refused'] }) =>
    e.admitted + Object.values(e.refused).reduce((a: number, n) => a + (n ?? 0), 0);
  return [...byKey.values()]
    .sort((a, b) => total(b) - total(a) || (a.id < b.id ? -1 : 1))
    .slice(0, USAGE_TOP_KEYS);
}

function add(into: { admitted: number; refused: UsageBucketJSON['refused'] }, counts: Counts): void {
  for (const [outcome, n] of Object.entries(counts) as Array<[UsageOutcome, number]>) {
    if (!n) continue;
    if (outcome === 'admitted') into.admitted += n;
    else into.refused[outcome as UsageRefusalCode] = (into.refused[outcome as UsageRefusalCode] ?? 0) + n;
  }
}
