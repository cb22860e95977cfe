import type { StoredKey } from '@keyward/core';
import type { Connection, Model } from 'mongoose';

/** A key document: `StoredKey` with `_id` in place of `id`. */
export type KeyDocument = Omit<StoredKey, 'id'> & { _id: string; changedAt?: Date };

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
      _id: { type: String, required: true },
      organizationId: { type: String, required: true },
      name: { type: String, required: true },
      type: { type: String, required: true, enum: ['public', 'secret'] },
      scopes: { type: [String], default: [] },
      hash: { type: String, required: true },
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
      // Server time of the last change, for the polling change feed (set with $currentDate).
      changedAt: { type: Date },
    },
    { collection, versionKey: false, autoIndex: false, bufferCommands: false, strict: 'throw' },
  );
  schema.index({ hash: 1 }, { unique: true, name: 'hash_unique' });
  // Default-key idempotency: every key holds a unique slot (its id, or "default:<org>" for the default key).
  schema.index({ slot: 1 }, { unique: true, name: 'slot_unique' });
  schema.index({ organizationId: 1, createdAt: -1, _id: -1 }, { name: 'organization_newest' });
  // The polling change feed reads keys changed since a point in time.
  schema.index({ changedAt: 1 }, { name: 'changed_at' });
  return connection.model<KeyDocument>(modelName, schema);
}

/** A stored key from a lean document (`_id` becomes `id`). */
export function fromDocument(doc: KeyDocument): StoredKey {
  const { _id, changedAt: _changedAt, ...rest } = doc;
  return {
    id: _id,
    organizationId: rest.organizationId,
    name: rest.name,
    type: rest.type,
    scopes: [...(rest.scopes ?? [])],
    hash: rest.hash,
    token: rest.token ?? null,
    redactedKey: rest.redactedKey,
    isDefault: rest.isDefault ?? false,
    slot: rest.slot,
    createdAt: rest.createdAt,
    updatedAt: rest.updatedAt,
    expiresAt: rest.expiresAt ?? null,
    lastUsedAt: rest.lastUsedAt ?? null,
    disabled: rest.disabled ?? false,
    rolledAt: rest.rolledAt ?? null,
    replacedBy: rest.replacedBy ?? null,
    deletedAt: rest.deletedAt ?? null,
  };
}

/** A document for `key` (`id` becomes `_id`). */
export function toDocument(key: StoredKey): KeyDocument {
  const { id, ...rest } = key;
  return { _id: id, ...rest, scopes: [...key.scopes] };
}
