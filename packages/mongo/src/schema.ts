import type { StoredKey } from '@keyward/core';
import type { Connection, Model, Types } from 'mongoose';

/**
 * A key document: `StoredKey` with the hash as `_id` and the id as `keyId`.
 *
 * Unlike the usual mapping of `_id` to `id` (conventions.md), `_id` holds the hash: FerretDB 1.24 (SQLite)
 * reaches an index only for a filter on `_id` alone and scans the whole collection for any other filter,
 * and `findByHash` (each uncached verify) is the hot path. Keying documents by hash makes that read one
 * indexed lookup on MongoDB and on FerretDB.
 */
export type KeyDocument = Omit<StoredKey, 'id' | 'hash'> & {
  _id: string;
  keyId: string;
  /** Events written with a change and not yet moved to `<collection>_events`, by event id. */
  outbox?: Record<string, unknown>;
};

/**
 * One entry of the change log the change feed reads: key `keyId` changed at `at` (the writer's clock).
 * A change-stream instance also writes heartbeats (`heartbeat` = its instance id, no `keyId`) to prove that
 * its stream delivers; pollers skip them.
 */
export interface ChangeDocument {
  _id: Types.ObjectId;
  keyId?: string;
  heartbeat?: string;
  at: Date;
}

/**
 * Registers the key model on `connection`, built from the connection's own mongoose (`connection.base`),
 * so one build of this package serves apps on mongoose 8 and 9. Indexes are plain or compound unique
 * ones only, which MongoDB and FerretDB both support.
 */
export function keyModel(connection: Connection, collection: string): Model<KeyDocument> {
  const modelName = `KeywardKey:${collection}`;
  const existing = connection.models[modelName];
  if (existing) return existing as Model<KeyDocument>;
  const { Schema } = connection.base;
  const nullableDate = { type: Date, default: null };
  const schema = new Schema<KeyDocument>(
    {
      // The key's hash (HMAC-SHA-256 of the token, hex): `_id` is unique, so no separate hash index.
      _id: { type: String, required: true },
      keyId: { type: String, required: true },
      organizationId: { type: String, required: true },
      name: { type: String, required: true },
      type: { type: String, required: true, enum: ['public', 'secret'] },
      scopes: { type: [String], default: [] },
      token: { type: String, default: null },
      redactedKey: { type: String, required: true },
      isDefault: { type: Boolean, default: false },
      slot: { type: String, required: true },
      createdAt: { type: Date, required: true },
      updatedAt: { type: Date, required: true },
      expiresAt: nullableDate,
      lastUsedAt: nullableDate,
      disabled: { type: Boolean, default: false },
      rolledAt: nullableDate,
      replacedBy: { type: String, default: null },
      deletedAt: nullableDate,
      // Counts the writes (compare-and-set). Documents written before it existed have none: read as 0.
      version: { type: Number, default: 0 },
      // Policies (contract §6). Documents written before they existed have none: read as [] and the key's
      // own id as its lineage.
      limits: {
        type: [
          new Schema(
            { limit: { type: Number, required: true }, windowSeconds: { type: Number, required: true } },
            { _id: false, strict: 'throw' },
          ),
        ],
        default: [],
      },
      allowedOrigins: { type: [String], default: [] },
      allowedIps: { type: [String], default: [] },
      lineageId: { type: String, default: null },
      // Audit events waiting to be moved to the event log (see EventOutbox); usually absent or empty.
      outbox: { type: Schema.Types.Mixed, default: undefined },
    },
    { collection, versionKey: false, autoIndex: false, bufferCommands: false, strict: 'throw' },
  );
  schema.index({ keyId: 1 }, { unique: true, name: 'key_id_unique' });
  // Default-key idempotency: every key holds a unique slot (its id, or "default:<org>" for the default key).
  schema.index({ slot: 1 }, { unique: true, name: 'slot_unique' });
  schema.index({ organizationId: 1, createdAt: -1, keyId: -1 }, { name: 'organization_newest' });
  schema.index({ expiresAt: 1 }, { name: 'expires_at' });
  return connection.model<KeyDocument>(modelName, schema);
}

/**
 * Registers the change-log model of `collection` (collection `<collection>_changes`): one document per key
 * update, read by the change feed. Its size follows the rate of changes (old entries are pruned), not the
 * number of keys.
 */
export function changeModel(connection: Connection, collection: string): Model<ChangeDocument> {
  const modelName = `KeywardKeyChange:${collection}`;
  const existing = connection.models[modelName];
  if (existing) return existing as Model<ChangeDocument>;
  const { Schema } = connection.base;
  const schema = new Schema<ChangeDocument>(
    {
      _id: { type: Schema.Types.ObjectId, required: true },
      keyId: { type: String },
      heartbeat: { type: String },
      at: { type: Date, required: true },
    },
    {
      collection: `${collection}_changes`,
      versionKey: false,
      autoIndex: false,
      bufferCommands: false,
      strict: 'throw',
    },
  );
  schema.index({ at: 1 }, { name: 'at' });
  return connection.model<ChangeDocument>(modelName, schema);
}

/** A stored key from a lean document (`_id` becomes `hash`, `keyId` becomes `id`). */
export function fromDocument(doc: KeyDocument): StoredKey {
  return {
    id: doc.keyId,
    organizationId: doc.organizationId,
    name: doc.name,
    type: doc.type,
    scopes: [...(doc.scopes ?? [])],
    hash: doc._id,
    token: doc.token ?? null,
    redactedKey: doc.redactedKey,
    isDefault: doc.isDefault ?? false,
    slot: doc.slot,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
    expiresAt: doc.expiresAt ?? null,
    lastUsedAt: doc.lastUsedAt ?? null,
    disabled: doc.disabled ?? false,
    rolledAt: doc.rolledAt ?? null,
    replacedBy: doc.replacedBy ?? null,
    deletedAt: doc.deletedAt ?? null,
    // Written before versions existed: version 0 (the update filter treats a missing version as 0 too).
    version: doc.version ?? 0,
    limits: (doc.limits ?? []).map((l) => ({ limit: l.limit, windowSeconds: l.windowSeconds })),
    allowedOrigins: [...(doc.allowedOrigins ?? [])],
    allowedIps: [...(doc.allowedIps ?? [])],
    lineageId: doc.lineageId ?? doc.keyId,
  };
}

/** A document for `key` (`hash` becomes `_id`, `id` becomes `keyId`). */
export function toDocument(key: StoredKey): KeyDocument {
  const { id, hash, ...rest } = key;
  return {
    _id: hash,
    keyId: id,
    ...rest,
    scopes: [...key.scopes],
    limits: key.limits.map((l) => ({ limit: l.limit, windowSeconds: l.windowSeconds })),
    allowedOrigins: [...key.allowedOrigins],
    allowedIps: [...key.allowedIps],
  };
}
