import type { StoredKey } from '@keyward/core/store';
import { copyLimit } from '@keyward/core/store';
import type { Connection, Model, Types } from 'mongoose';
import type { EventDocument } from './event-schema.js';
import type { UsageBucketDocument } from './usage-buckets.js';

/**
 * A key document: `StoredKey` with the id as `_id`, without `lastUsedAt` (kept in `<collection>_usage`),
 * and `op`, the id of the guarded write that wrote it last (how recovery tells whether a write landed).
 * Only guarded writes (write-path.ts) write it.
 */
export type KeyDocument = Omit<StoredKey, 'id' | 'lastUsedAt'> & { _id: string; op?: string };

/** `<collection>_hashes`: the lookup by hash, `{ _id: hash, keyId }`, checked against the key's own hash. */
export interface HashDocument {
  _id: string;
  keyId: string;
}

/** `<collection>_usage`: a key's last use, `{ _id: keyId, at }`, written by usage flushes only. */
export interface UsageDocument {
  _id: string;
  at: Date;
}

/**
 * A guarded write, as recorded in its lease before it touches anything else: everything needed to finish
 * it (or to see that it finished) without its writer.
 */
export interface PendingWrite {
  /** Random; stored on the key document by the write (`op`). */
  id: string;
  keyId: string;
  /** The version read under the lease: the write takes the key from it to `base + 1`. Absent for an insert. */
  base?: number;
  /** Fields of the key document the write sets. */
  set?: Record<string, unknown>;
  /** An insert: the new key's document. */
  insert?: KeyDocument;
  /** The successor of a roll, inserted by the same write. */
  successor?: KeyDocument;
  /** A re-hash: the lookup moves from `from` to `to`. */
  rehash?: { from: string; to: string };
  event?: EventDocument;
  /** The successor's own event (a roll's `key.created`), written with `event`. */
  successorEvent?: EventDocument;
}

/**
 * `<collection>_locks`: a lease `{ _id: keyId, owner, expiresAt, op? }` (one per key at most, taken by
 * inserting it), or a takeover claim `{ _id: "<keyId>~<owner>~<n>", expiresAt, claim: true }`.
 */
export interface LockDocument {
  _id: string;
  owner?: string;
  expiresAt: Date;
  op?: PendingWrite;
  claim?: boolean;
}

/** One entry of the change log the change feed reads: key `keyId` changed at `at` (the writer's clock). */
/** `<collection>_organizations`: what Keyward keeps per organization, `{ _id: organizationId, plan }`. */
export interface OrganizationDocument {
  _id: string;
  plan: string | null;
}

/** The `keyId` of a change-log entry that tells every instance to re-read all its cached keys. */
export const RESET_ALL = '*';

export interface ChangeDocument {
  _id: Types.ObjectId;
  keyId: string;
  at: Date;
}

type Models = {
  keys: Model<KeyDocument>;
  hashes: Model<HashDocument>;
  usage: Model<UsageDocument>;
  locks: Model<LockDocument>;
  changes: Model<ChangeDocument>;
  usageBuckets: Model<UsageBucketDocument>;
  organizations: Model<OrganizationDocument>;
};

/**
 * Registers the models of `collection` on `connection`, built from the connection's own mongoose
 * (`connection.base`), so one build of this package serves apps on mongoose 8 and 9. Indexes are plain or
 * compound ones only (unique: `_id` everywhere, and the key's `slot`), which MongoDB and FerretDB both have.
 */
export function storeModels(connection: Connection, collection: string): Models {
  const { Schema } = connection.base;
  const options = (name: string) => ({
    collection: name,
    versionKey: false as const,
    autoIndex: false,
    bufferCommands: false,
    strict: false,
  });
  const model = <T>(
    suffix: string,
    fields: Record<string, unknown>,
    indexes: Array<[object, object]> = [],
  ) => {
    const name = suffix ? `${collection}_${suffix}` : collection;
    const modelName = `Keyward:${name}`;
    const existing = connection.models[modelName];
    if (existing) return existing as Model<T>;
    const schema = new Schema<T>(fields, options(name));
    for (const [spec, opts] of indexes) schema.index(spec as never, opts);
    return connection.model<T>(modelName, schema);
  };
  return {
    keys: model<KeyDocument>('', { _id: String }, [
      // Default-key idempotency: every key holds a unique slot (its id, or "default:<org>", "roll:…", …).
      [{ slot: 1 }, { unique: true, name: 'slot_unique' }],
      [{ organizationId: 1, createdAt: -1, _id: -1 }, { name: 'organization_newest' }],
      [{ expiresAt: 1 }, { name: 'expires_at' }],
    ]),
    hashes: model<HashDocument>('hashes', { _id: String }),
    usage: model<UsageDocument>('usage', { _id: String }),
    locks: model<LockDocument>('locks', { _id: String }),
    organizations: model<OrganizationDocument>('organizations', { _id: String }),
    changes: model<ChangeDocument>('changes', { _id: Schema.Types.ObjectId }, [[{ at: 1 }, { name: 'at' }]]),
    // An organization's usage in a range; a key's is an `_id` range (see usage-buckets.ts).
    usageBuckets: model<UsageBucketDocument>('usage_buckets', { _id: String }, [
      [{ organizationId: 1, granularity: 1, at: 1 }, { name: 'organization_usage' }],
    ]),
  };
}

/** A stored key from a document (`_id` becomes `id`), with its last use. */
export function fromDocument(doc: KeyDocument, lastUsedAt: Date | null = null): StoredKey {
  return {
    id: doc._id,
    organizationId: doc.organizationId,
    name: doc.name,
    type: doc.type,
    scopes: [...(doc.scopes ?? [])],
    hash: doc.hash,
    token: doc.token ?? null,
    redactedKey: doc.redactedKey,
    isDefault: doc.isDefault ?? false,
    slot: doc.slot,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    expiresAt: doc.expiresAt ?? null,
    lastUsedAt,
    disabled: doc.disabled ?? false,
    rolledAt: doc.rolledAt ?? null,
    replacedBy: doc.replacedBy ?? null,
    deletedAt: doc.deletedAt ?? null,
    version: doc.version ?? 0,
    limits: (doc.limits ?? []).map((l) => copyLimit(l)),
    allowedOrigins: [...(doc.allowedOrigins ?? [])],
    allowedIps: [...(doc.allowedIps ?? [])],
    lineageId: doc.lineageId ?? doc._id,
    ...(doc.legacy === true ? { legacy: true } : {}),
    ...(doc.meta ? { meta: doc.meta } : {}),
    ...(doc.owner ? { owner: { type: doc.owner.type, id: doc.owner.id } } : {}),
    ...(typeof doc.plan === 'string' ? { plan: doc.plan } : {}),
    ...(doc.createdBy ? { createdBy: { type: doc.createdBy.type, id: doc.createdBy.id } } : {}),
    ...(doc.credits ? { credits: copyCredits(doc.credits) } : {}),
  };
}

/** The document of `key` (`id` becomes `_id`; `lastUsedAt` is not part of it). */
export function toDocument(key: StoredKey): KeyDocument {
  const { id, lastUsedAt: _lastUsedAt, legacy, ...rest } = key;
  return {
    _id: id,
    ...rest,
    scopes: [...key.scopes],
    limits: key.limits.map((l) => copyLimit(l)),
    allowedOrigins: [...key.allowedOrigins],
    allowedIps: [...key.allowedIps],
    ...(legacy === true ? { legacy: true } : {}),
  };
}

/** A key's credits as read back (docs/reference.md §10): exactly their fields. */
function copyCredits(credits: NonNullable<StoredKey['credits']>): NonNullable<StoredKey['credits']> {
  return {
    remaining: credits.remaining,
    refill: credits.refill
      ? { amount: credits.refill.amount, intervalSeconds: credits.refill.intervalSeconds }
      : null,
    grantId: credits.grantId,
    grantedAt: new Date(credits.grantedAt),
  };
}
