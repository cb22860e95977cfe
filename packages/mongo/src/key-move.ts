import { randomBytes } from 'node:crypto';
import type { Collection } from 'mongoose';
import { toStoreError } from './errors.js';
import type { KeyDocument } from './schema.js';

/**
 * A key document on its way to a new `_id` (pepper rotation, SHA-256 import upgrade). `_id` is the hash
 * and cannot change, so a move is a copy under the new hash plus the end of the old document, done in
 * steps that each leave a state every reader understands — FerretDB has no transactions:
 *
 * 1. insert the copy as a **pending** document: `_id` = new hash, `deletedAt` set to the time of the move
 *    (any reader that does not know about moves refuses it; `findById` and `list` skip it), `keyId`/`slot`
 *    placeholders (both are unique), and `moving: { from, keyId, slot }` with the real values;
 * 2. end the old document, conditional on the version copied: `movedTo` = new hash, `deletedAt` set,
 *    `keyId`/`slot` moved aside (frees them); a change in between (PATCH, delete) fails this, and the
 *    pending copy is dropped;
 * 3. finish the copy: real `keyId` and `slot`, `deletedAt` back, `moving` removed, version + 1;
 * 4. delete the old document (the old hash leaves the store).
 *
 * The insert of step 1 is atomic everywhere (a unique `_id`), so it elects **one mover**: only the
 * instance whose copy was inserted writes steps 2 to 4. Everyone else only reads a move in progress
 * (`settle`): by the new hash they find the copy as step 3 will write it while it holds the key (the old
 * document unchanged since the copy, or ended for it), by the old hash the old document until step 2.
 * This matters on FerretDB, whose updates are a read and a whole-document write, not atomic: several
 * instances finishing one move would write over each other. A copy older than `MOVE_STALE_MS` was left by
 * a mover that died; the next reader finishes (or drops) it. The old document is only ever deleted once
 * its copy is the key, so a copy whose old document is gone is completed, never dropped; and a deleted
 * key is never copied.
 */
export type MoveState = NonNullable<KeyDocument['moving']>;

/** Age after which a pending copy is taken for one left by a mover that died, in ms. */
export const MOVE_STALE_MS = 60_000;

/** Times a mover repeats steps 2 and 3 when a concurrent (non-atomic) write undid step 2. */
const MOVE_ATTEMPTS = 3;

export class KeyMove {
  readonly #keys: Collection<KeyDocument>;
  readonly #clock: () => Date;

  constructor(keys: Collection<KeyDocument>, clock: () => Date = () => new Date()) {
    this.#keys = keys;
    this.#clock = clock;
  }

  /**
   * Step 1: the pending copy of `doc` under `hash`. Resolves with it, or `null` when this key changed since
   * `doc` was read, or is being (or was) moved already; rejects with `DuplicateKeyError` when another key
   * holds `hash`. The copy is of the document as stored, so events still in its outbox travel with it.
   */
  async begin(doc: KeyDocument, hash: string): Promise<KeyDocument | null> {
    const stored = await this.#keys.findOne({ _id: doc._id });
    const unchanged =
      stored !== null &&
      stored.deletedAt == null &&
      !stored.moving &&
      !stored.movedTo &&
      (stored.version ?? 0) === (doc.version ?? 0);
    if (!unchanged) return null;
    const pending: KeyDocument = {
      ...stored,
      _id: hash,
      keyId: `moving:${stored.keyId}`,
      slot: `moving:${stored.slot}`,
      deletedAt: this.#clock(),
      moving: { from: stored._id, keyId: stored.keyId, slot: stored.slot },
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
   * What a reader makes of a pending copy it came across: a copy left by a dead mover is finished (or
   * dropped); a move in progress is only read. Resolves with the key as step 3 will write it while the copy
   * holds the key (the old document is ended for it, or unchanged since the copy), or `null` when the key
   * changed since (the copy is stale; its mover drops it).
   */
  async settle(pending: KeyDocument): Promise<KeyDocument | null> {
    const move = pending.moving;
    if (!move) return pending;
    const startedAt = pending.deletedAt?.getTime() ?? 0;
    if (this.#clock().getTime() - startedAt >= MOVE_STALE_MS) return this.finish(pending);
    const old = await this.#keys.findOne({ _id: move.from });
    // Gone: the move was finished (or its last step undone by a lost write); the copy is the key.
    if (!old) return this.#complete(pending, move);
    // Ended for this copy, or not yet ended and unchanged since the copy: either way the copy holds the key.
    const unchanged = old.deletedAt == null && !old.movedTo && (old.version ?? 0) === pending.version;
    if (old.movedTo === pending._id || unchanged) return completed(pending, move);
    // The key changed since the copy was made: the copy is stale, and its mover drops it.
    return null;
  }

  /**
   * Steps 2 to 4 for a pending copy: by its mover, or for a copy left by a dead one. Resolves with the
   * finished document, or `null` when the move was dropped (the old document changed or was deleted since
   * the copy) — then the old document is still the key.
   */
  async finish(pending: KeyDocument): Promise<KeyDocument | null> {
    const move = pending.moving;
    if (!move) return pending;
    for (let attempt = 1; ; attempt++) {
      const ended = await this.#end(pending, move);
      if (ended === 'stale') return this.#drop(pending);
      try {
        const done = await this.#complete(pending, move);
        await this.#keys.deleteOne({ _id: move.from, movedTo: pending._id });
        return done;
      } catch (error) {
        // The key's id is held again by the old document: a write that read it before step 2 wrote it back
        // after (FerretDB). Step 2 once more, then step 3.
        if (toStoreError(error).name !== 'DuplicateKeyError' || attempt >= MOVE_ATTEMPTS) throw error;
      }
    }
  }

  /** Step 2. `ended` once the old document points at the copy (or is gone after a finished move). */
  async #end(pending: KeyDocument, move: MoveState): Promise<'ended' | 'stale'> {
    const old = await this.#keys.findOne({ _id: move.from });
    // The old document is deleted only after its copy became the key: nothing left to end.
    if (!old || old.movedTo === pending._id) return 'ended';
    // Unless the key changed since the copy was made (then the copy is stale).
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
    if (ended) return 'ended';
    const now = await this.#keys.findOne({ _id: move.from });
    return !now || now.movedTo === pending._id ? 'ended' : 'stale';
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
    // Only the mover (or the finisher of a dead one's copy) drops, and only a copy whose old document
    // changed: no one else completes it meanwhile.
    await this.#keys.deleteOne({ _id: pending._id, 'moving.from': pending.moving?.from });
    return null;
  }
}

/** The copy as step 3 writes it. */
function completed(pending: KeyDocument, move: MoveState): KeyDocument {
  const { moving: _moving, ...rest } = pending;
  return { ...rest, keyId: move.keyId, slot: move.slot, deletedAt: null, version: pending.version + 1 };
}
