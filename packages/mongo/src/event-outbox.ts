import type { DeliveryFaults, KeyEvent } from '@keyward/core';
import type { Model } from 'mongoose';
import { type EventDocument, toEventDocument } from './event-schema.js';
import { log } from './logger.js';
import type { KeyDocument } from './schema.js';

/** Keys read per query when `deliverAll` looks for outboxes left behind. */
const RECOVERY_PAGE_SIZE = 500;
/** Outbox entries cleared per update command after a bulk insert. */
const CLEAR_BATCH_SIZE = 20;

/**
 * The outbox of `MongoKeyStore`: an event is written into its key's document (`outbox.<eventId>`) by the
 * same single-document write as the change (no transactions needed, so it holds on FerretDB), then
 * inserted into the event log with `_id` = event id (a duplicate is success: idempotent) and removed from
 * the outbox. Whatever fails or dies in between, the key's document still holds the event, and
 * `deliverAll` moves it later; the log never holds an event whose change was not written.
 */
export class EventOutbox {
  readonly #keys: Model<KeyDocument>;
  readonly #events: Model<EventDocument>;
  readonly #retentionMs: number;
  readonly #faults: DeliveryFaults;

  constructor(
    keys: Model<KeyDocument>,
    events: Model<EventDocument>,
    retentionMs: number,
    faults: DeliveryFaults,
  ) {
    this.#keys = keys;
    this.#events = events;
    this.#retentionMs = retentionMs;
    this.#faults = faults;
  }

  /** The outbox field of a key document write: `{ "outbox.<id>": doc }` for `$set`. */
  entry(event: KeyEvent): { path: string; doc: EventDocument } {
    return { path: `outbox.${event.id}`, doc: toEventDocument(event, this.#retentionMs) };
  }

  /**
   * Moves one event of the key whose document `_id` is `hash` to the log (after the key write). A failure
   * is logged and left to `deliverAll`: the change itself is durable. `strict` rethrows instead.
   */
  async deliver(hash: string, doc: EventDocument, strict = false): Promise<boolean> {
    try {
      await this.#faults.beforeAppend?.(doc._id);
      await this.#events.collection.insertOne(doc as never).catch((error: unknown) => {
        if ((error as { code?: unknown })?.code !== 11000) throw error;
      });
      await this.#faults.beforeClear?.(doc._id);
      // Filtering on `_id` alone: one indexed lookup on FerretDB too.
      await this.#keys.collection.updateOne({ _id: hash } as never, {
        $unset: { [`outbox.${doc._id}`]: '' },
      });
      return true;
    } catch (error) {
      if (strict) throw error;
      log(
        'event %s not moved to the log yet (%s); it waits in the key outbox',
        doc._id,
        (error as Error).name,
      );
      return false;
    }
  }

  /**
   * `deliver` for many events at once (a bulk import): one unordered insert into the log, then the outbox
   * entries cleared in small batches (FerretDB holds a pooled connection per statement of an update
   * command). A failure is logged and left to `deliverAll`.
   */
  async deliverMany(items: ReadonlyArray<{ hash: string; doc: EventDocument }>): Promise<void> {
    try {
      for (const { doc } of items) await this.#faults.beforeAppend?.(doc._id);
      await this.#events.collection
        .insertMany(items.map((item) => item.doc) as never[], { ordered: false })
        .catch((error: unknown) => {
          const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
          const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
          // Events already in the log (an earlier, interrupted delivery) are success: idempotent by id.
          if (list.length === 0 || list.some((e: { code?: number }) => e.code !== 11000)) throw error;
        });
      for (const { doc } of items) await this.#faults.beforeClear?.(doc._id);
      for (let from = 0; from < items.length; from += CLEAR_BATCH_SIZE) {
        const batch = items.slice(from, from + CLEAR_BATCH_SIZE);
        await this.#keys.collection.bulkWrite(
          batch.map(({ hash, doc }) => ({
            updateOne: { filter: { _id: hash }, update: { $unset: { [`outbox.${doc._id}`]: '' } } },
          })) as never[],
          { ordered: false },
        );
      }
    } catch (error) {
      log(
        '%d events not moved to the log yet (%s); they wait in the key outboxes',
        items.length,
        (error as Error).name,
      );
    }
  }

  /**
   * Moves every event still waiting in a key's outbox to the log; removes emptied outboxes. One scan of
   * the keys collection for documents that have an outbox (a collection scan on FerretDB, which indexes
   * `_id` filters only; run it every minute or so, not per request).
   */
  async deliverAll(): Promise<number> {
    let moved = 0;
    let after: string | null = null;
    for (;;) {
      // Only outboxes that hold events: a write to a key whose outbox was emptied by its own delivery gains
      // nothing, and on FerretDB (an update is a read plus a whole-document write) it could undo a PATCH,
      // disable or delete landing in the same milliseconds. Not a key on the move (see KeyMove) either: its
      // one mover writes it, and the copy carries the outbox along.
      const filter: Record<string, unknown> = {
        outbox: { $exists: true, $ne: {} },
        moving: { $exists: false },
        movedTo: { $exists: false },
      };
      if (after !== null) filter._id = { $gt: after };
      const docs = await this.#keys
        .find(filter)
        .select({ _id: 1, outbox: 1 })
        .sort({ _id: 1 })
        .limit(RECOVERY_PAGE_SIZE)
        .lean<Array<{ _id: string; outbox?: Record<string, EventDocument> }>>()
        .exec();
      for (const doc of docs) {
        for (const entry of Object.values(doc.outbox ?? {})) {
          if (await this.deliver(doc._id, entry, true)) moved++;
        }
        // Only if it is still empty: a write in between may have added an event.
        await this.#keys.collection.updateOne({ _id: doc._id, outbox: {} } as never, {
          $unset: { outbox: '' },
        });
      }
      const last = docs.at(-1);
      if (docs.length < RECOVERY_PAGE_SIZE || !last) return moved;
      after = last._id;
    }
  }
}
