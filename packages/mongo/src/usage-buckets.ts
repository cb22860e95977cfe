import type { UsageOutcome } from '@keyward/core';
import {
  USAGE_RETENTION_MS,
  type UsageBucket,
  type UsageGranularity,
  type UsageReadQuery,
  type UsageRow,
} from '@keyward/core/store';
import type { mongo } from 'mongoose';

/**
 * `<collection>_usage_buckets`: one instance's running totals of one key in one bucket,
 * `_id` = `<keyId>|<granularity>|<ISO start>|<instanceId>`. Only the instance named in the id writes it
 * (a whole-document replace): FerretDB runs an update as a read plus a write, and with one writer per
 * document no two writes can meet. Key ids, granularities and fixed-width ISO dates make a key's buckets
 * one `_id` range, FerretDB's fast path.
 */
export interface UsageBucketDocument extends UsageBucket {
  _id: string;
  /** When the bucket's retention ends (TTL index on MongoDB, `sweepUsage` on FerretDB). */
  expireAt: Date;
}

/** Bucket writes sent per command (FerretDB: ~100 statements exhaust its pool). */
const BATCH_SIZE = 20;

function bucketId(keyId: string, granularity: UsageGranularity, at: Date, instanceId = ''): string {
  return `${keyId}|${granularity}|${at.toISOString()}|${instanceId}`;
}

/** Replaces each bucket's document (inserting it the first time), in batches. */
export async function writeBuckets(
  collection: mongo.Collection<UsageBucketDocument>,
  buckets: ReadonlyArray<UsageBucket>,
): Promise<void> {
  for (let from = 0; from < buckets.length; from += BATCH_SIZE) {
    const batch = buckets.slice(from, from + BATCH_SIZE);
    await collection.bulkWrite(
      batch.map((b) => {
        const _id = bucketId(b.keyId, b.granularity, b.at, b.instanceId);
        const replacement = {
          keyId: b.keyId,
          organizationId: b.organizationId,
          granularity: b.granularity,
          at: b.at,
          instanceId: b.instanceId,
          counts: { ...b.counts },
          expireAt: new Date(b.at.getTime() + USAGE_RETENTION_MS[b.granularity]),
        };
        return { replaceOne: { filter: { _id }, replacement, upsert: true } };
      }),
      { ordered: false },
    );
  }
}

/**
 * A key's buckets by `_id` range, or an organization's by `organization_usage`; summed over instances
 * here (plain finds: no aggregation beyond what FerretDB runs well).
 */
export async function readBuckets(
  collection: mongo.Collection<UsageBucketDocument>,
  query: UsageReadQuery,
): Promise<UsageRow[]> {
  const { organizationId, keyId, granularity, from, to } = query;
  const filter =
    keyId !== undefined
      ? { _id: { $gte: bucketId(keyId, granularity, from), $lt: bucketId(keyId, granularity, to) } }
      : { organizationId, granularity, at: { $gte: from, $lt: to } };
  const docs = await collection.find(filter as never).toArray();
  const rows = new Map<string, UsageRow>();
  for (const doc of docs) {
    if (doc.organizationId !== organizationId || doc.granularity !== granularity) continue;
    if (keyId !== undefined && doc.keyId !== keyId) continue;
    if (!(doc.at instanceof Date) || doc.at < from || doc.at >= to) continue;
    const id = `${doc.keyId}|${doc.at.getTime()}`;
    let row = rows.get(id);
    if (!row) {
      row = { keyId: doc.keyId, at: doc.at, counts: {} };
      rows.set(id, row);
    }
    for (const [outcome, n] of Object.entries(doc.counts ?? {}) as Array<[UsageOutcome, number]>)
      if (typeof n === 'number') row.counts[outcome] = (row.counts[outcome] ?? 0) + n;
  }
  return [...rows.values()];
}
