import type { KeyEvent } from '@keyward/core';
import { KEY_EVENT_OPTIONAL_FIELDS } from '@keyward/core/store';
import type { Connection, Model } from 'mongoose';

/**
 * An audit event document in `<collection>_events`: `KeyEvent` with the event id as `_id` (so writing an
 * event twice keeps one) and `expireAt`, when retention deletes it (a TTL index on MongoDB, the sweep on
 * FerretDB). The same document waits in the key's `outbox.<eventId>` until it is in the log.
 */
export type EventDocument = Omit<KeyEvent, 'id'> & { _id: string; expireAt: Date };

/**
 * Registers the event model of `collection` (collection `<collection>_events`) on `connection`, built from
 * the connection's own mongoose. Indexes: newest first per organization and per key; `expireAt` is
 * indexed by `MongoKeyStore.ensureIndexes` (TTL where the server has TTL indexes).
 *
 * @example
 * const events = eventModel(connection, 'keyward_keys'); // collection keyward_keys_events
 */
export function eventModel(connection: Connection, collection: string): Model<EventDocument> {
  const modelName = `KeywardKeyEvent:${collection}`;
  const existing = connection.models[modelName];
  if (existing) return existing as Model<EventDocument>;
  const { Schema } = connection.base;
  const schema = new Schema<EventDocument>(
    {
      _id: { type: String, required: true },
      organizationId: { type: String, required: true },
      type: { type: String, required: true },
      keyId: { type: String, required: true },
      keyName: { type: String, required: true },
      at: { type: Date, required: true },
      actor: { type: { type: String, required: true }, id: { type: String, required: true } },
      ip: { type: String },
      userAgent: { type: String },
      changes: { type: [String], default: undefined },
      // The fields of one event type (`KEY_EVENT_OPTIONAL_FIELDS`): `source` and `url` of `key.leaked`,
      // `reason`, `rolledFrom`, `replacedBy`.
      source: { type: String },
      url: { type: String },
      reason: { type: String },
      rolledFrom: { type: String },
      replacedBy: { type: String },
      expireAt: { type: Date, required: true },
    },
    {
      collection: `${collection}_events`,
      versionKey: false,
      autoIndex: false,
      bufferCommands: false,
      strict: 'throw',
    },
  );
  schema.index({ organizationId: 1, at: -1, _id: -1 }, { name: 'organization_newest' });
  schema.index({ organizationId: 1, keyId: 1, at: -1, _id: -1 }, { name: 'key_newest' });
  return connection.model<EventDocument>(modelName, schema);
}

/**
 * The document of `event`, deleted by retention at `at + retentionMs`.
 *
 * @example
 * await events.collection.insertOne(toEventDocument(event, 400 * 86_400_000));
 */
export function toEventDocument(event: KeyEvent, retentionMs: number): EventDocument {
  const { id, ...rest } = event;
  return { _id: id, ...rest, expireAt: new Date(event.at.getTime() + retentionMs) };
}

/**
 * The event of a lean document (only the fields of `KeyEvent`).
 *
 * @example
 * const list = (await events.find({ organizationId }).lean<EventDocument[]>()).map(fromEventDocument);
 */
export function fromEventDocument(doc: EventDocument): KeyEvent {
  const event: KeyEvent = {
    id: doc._id,
    organizationId: doc.organizationId,
    type: doc.type,
    keyId: doc.keyId,
    keyName: doc.keyName,
    at: doc.at,
    actor: { type: doc.actor.type, id: doc.actor.id },
  };
  // Every optional field the document holds, by the one list of them (`source` and `url` of `key.leaked`
  // were once dropped here: a field added to `KeyEvent` is read back by this loop, not by a line of its own).
  for (const field of KEY_EVENT_OPTIONAL_FIELDS) {
    const value = doc[field];
    if (field === 'changes') {
      if (Array.isArray(value)) event.changes = [...value];
    } else if (typeof value === 'string') event[field] = value;
  }
  return event;
}
