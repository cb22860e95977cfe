import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongoose';
import { toStoreError } from './errors.js';
import type { KeyDocument } from './schema.js';

/**
 * A key document on its way to a new `_id` (pepper rotation, SHA-256 import upgrade). `_id` is the hash
 * and cannot change, so a move is a copy under the new hash plus the end of the old document, done in
 * steps that each leave a state every reader understands — FerretDB has no transactions:
 *
 * 1. insert the copy as a **pending** document: `_id` = new hash, `deletedAt` set (any reader that does
 *    not know about moves refuses it; `findById` and `list` skip it), `keyId`/`slot` placeholders (both
 *    are unique), and `moving: { from, keyId, slot }` with the real values;
 * 2. end the old document, conditional on the version copied: `movedTo` = new hash, `deletedAt` set,
 *    `keyId`/`slot` moved aside (frees them); a change in between (PATCH, delete) fails this, and the
 *    pending copy is dropped;
 * 3. finish the copy: real `keyId` and `slot`, `deletedAt` back, `moving` removed, version + 1;
 * 4. delete the old document (the old hash leaves the store).
 *
 * A crash after 1 leaves a pending copy the next reader (by new hash, id or slot) either finishes or drops;
 * after 2 or 3, the next reader finishes it. The old document is authoritative until step 2 lands, the copy
 * after it; at no point can both work, and a deleted key is never copied.
 */
export type MoveState = NonNullable<KeyDocument['moving']>;

export class KeyMove {
  readonly #keys: Collection<KeyDocument>;
  readonly #clock: () => Date;

  constructor(keys: Collection<KeyDocument>, clock: () => Date = () => new Date()) {
    this.#keys = keys;
    this.#clock = clock;
  }

  /**
   * Step 1: the pending copy of `doc` under `hash`. Resolves with it, or `null` when this key is being (or
   * was) moved already; rejects with `DuplicateKeyError` when another key holds `hash`.
   */
  async begin(doc: KeyDocument, hash: string): Promise<KeyDocument | null> {
    const pending: KeyDocument = {
      ...doc,
      _id: hash,
      keyId: `moving:${doc.keyId}`,
      slot: `moving:${doc.slot}`,
      deletedAt: this.#clock(),
      moving: { from: doc._id, keyId: doc.keyId, slot: doc.slot },
    };
    delete pending.movedTo;
    try {
      await this.#keys.insertOne(pending as never);
      return pending;
    } catch (error) {
      const mapped = toStoreError(error);
      // Raw driver errors go on: the store maps them (duplicates to DuplicateKeyError) in one place.
      if (mapped.name !== 'DuplicateKeyError') throw error;
      const holder = await this.#keys.findOne({ _id: hash });
      // Another instance moves this key (its copy holds the placeholder or the hash): let it.
      if (!holder || holder.moving?.keyId === doc.keyId || holder.keyId === doc.keyId) return null;
      throw error;
    }
  }

  /**
   * Steps 2 to 4 for a pending copy; also what a reader does with one left by a crash. Resolves with the
   * finished document, or `null` when the move was dropped (the old document changed, was deleted, or is
   * gone) — then the old document, if any, is still the key.
   */
  async finish(pending: KeyDocument): Promise<KeyDocument | null> {
    const move = pending.moving;
    if (!move) return pending;
    const old = await this.#keys.findOne({ _id: move.from });
    if (old && old.movedTo !== pending._id) {
      // Step 2, unless the key changed since the copy was made (then the copy is stale: drop it).
      const stillCopied: Record<string, unknown> = {
        _id: move.from,
        // A document written before versions existed has none: version 0.
        version: pending.version === 0 ? { $in: [0, null] } : pending.version,
        deletedAt: null,
        movedTo: null,
      };
      const ended = await this.#keys.findOneAndUpdate(stillCopied as never, {
        $set: {
          movedTo: pending._id,
          deletedAt: this.#clock(),
          keyId: `moved:${move.keyId}:${randomBytes(6).toString('hex')}`,
          slot: `moved:${randomBytes(12).toString('hex')}`,
        },
        $inc: { version: 1 },
      });
      if (!ended) {
        // Another reader may have ended it for this very copy; otherwise the copy is stale.
        const now = await this.#keys.findOne({ _id: move.from });
        if (now?.movedTo !== pending._id) return this.#drop(pending);
      }
    } else if (!old) {
      // The old document is gone without having been ended by a move: nothing to finish.
      const finished = await this.#keys.findOne({ _id: pending._id });
      if (finished && !finished.moving) return finished;
      return this.#drop(pending);
    }
    const done = await this.#complete(pending, move);
    await this.#keys.deleteOne({ _id: move.from, movedTo: pending._id });
    return done;
  }

  /** Step 3: the copy takes the key's id and slot (a slot taken meanwhile, e.g. by a new default key, gives way). */
  async #complete(pending: KeyDocument, move: MoveState): Promise<KeyDocument | null> {
    const filter = { _id: pending._id, 'moving.from': move.from };
    const finish = (slot: string) =>
      this.#keys.findOneAndUpdate(
        filter,
        {
          $set: { keyId: move.keyId, slot, deletedAt: null, version: pending.version + 1 },
          $unset: { moving: '' },
        },
        { returnDocument: 'after' },
      );
    try {
      return (await finish(move.slot)) ?? (await this.#keys.findOne({ _id: pending._id }));
    } catch (error) {
      const mapped = toStoreError(error);
      if (mapped.name !== 'DuplicateKeyError') throw error;
      // Never lose the key over its slot: it keeps working under one of its own.
      return await finish(`rehashed:${move.keyId}`);
    }
  }

  async #drop(pending: KeyDocument): Promise<null> {
    await this.#keys.deleteOne({ _id: pending._id, 'moving.from': pending.moving?.from });
    return null;
  }
}
