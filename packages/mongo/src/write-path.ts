import { randomBytes } from 'node:crypto';
import { KeyStoreUnavailableError } from '@keyward/core';
import { type DeliveryFaults, DuplicateKeyError } from '@keyward/core/store';
import type { mongo } from 'mongoose';
import { toStoreError } from './errors.js';
import type { EventDocument } from './event-schema.js';
import { isDuplicate, type Lease, LeaseLost, Leases, type WriteState } from './leases.js';
import { log } from './logger.js';
import type { HashDocument, KeyDocument, LockDocument, PendingWrite } from './schema.js';

/** The steps of a guarded write, in order; `crash` hooks run after each (see `WriteFaults`). */
export type WriteStep = 'leased' | 'recorded' | 'written' | 'event-written' | 'announced';

/**
 * Test seams: `beforeAppend` / `beforeClear` fail the event write (a store error: the write still
 * succeeds and its event is finished later); `crash` runs after each step of a guarded write, and a
 * throw there stops the writer as a crash would: no further step, no clean-up, the lease left as it is.
 */
export interface WriteFaults extends DeliveryFaults {
  crash?: (step: WriteStep, keyId: string) => void | Promise<void>;
}

/** What a guarded write changes, decided from the key as read under the lease. */
export type Plan = Pick<PendingWrite, 'set' | 'successor' | 'rehash' | 'event' | 'successorEvent'>;

/** The key moved on without this write (it can no longer land): nothing of it is left. */
class Superseded extends Error {}

/** A `crash` fault: the writer stops here. */
class Crashed extends Error {
  constructor(cause: unknown) {
    super('writer stopped by a crash fault', { cause });
  }
}

interface Collections {
  keys: mongo.Collection<KeyDocument>;
  hashes: mongo.Collection<HashDocument>;
  locks: mongo.Collection<LockDocument>;
  events: mongo.Collection<EventDocument>;
}

/**
 * The one write path of the key documents: every write of a key (insert, update, disable, delete, roll,
 * re-hash) is a guarded write under the key's lease (see `Leases`):
 *
 * lease → read the key → check → announce → record the write in the lease → write (successor, new hash
 * pointer, key, old pointer) → event → announce → release.
 *
 * Every step of the write is idempotent and tied to the write's id (`op` on the documents it inserts or
 * writes), so whoever holds the lease next can finish a recorded write whose writer died, by running the
 * same steps again (`recover`): a recorded write lands whole, with exactly one event, or, when the key
 * has moved on without it, not at all.
 */
export class WritePath {
  readonly #c: Collections;
  readonly #leases: Leases;
  readonly #faults: WriteFaults;
  readonly #announce: (id: string) => Promise<unknown>;

  constructor(
    c: Collections,
    leaseMs: number,
    faults: WriteFaults,
    announce: (id: string) => Promise<unknown>,
  ) {
    this.#c = c;
    this.#faults = faults;
    this.#announce = announce;
    this.#leases = new Leases(c.locks, leaseMs, (op) => this.#recover(op));
  }

  get leases(): Leases {
    return this.#leases;
  }

  /** Inserts a key (with its event): a guarded write of a new id. */
  async insert(doc: KeyDocument, event: EventDocument | undefined, state: WriteState): Promise<void> {
    const op: PendingWrite = { id: newWriteId(), keyId: doc._id, insert: doc, ...(event && { event }) };
    await this.#run(doc._id, state, async () => op);
  }

  /**
   * A guarded write of an existing key: `plan` sees the key as read under the lease and answers what to
   * write, or `null` for nothing. Resolves with the key as written, or `null` when nothing was.
   */
  async update(
    id: string,
    plan: (doc: KeyDocument) => Plan | null,
    state: WriteState,
  ): Promise<KeyDocument | null> {
    let after = null as KeyDocument | null;
    const written = this.#run(id, state, async () => {
      const doc = await this.readKey(id);
      const planned = doc && plan(doc);
      if (!doc || !planned) return null;
      const base = doc.version ?? 0;
      after = { ...doc, ...(planned.set as Partial<KeyDocument>), version: base + 1 };
      return { id: newWriteId(), keyId: id, base, ...planned };
    });
    try {
      await written;
    } catch (error) {
      if (error instanceof Superseded) return null;
      throw error;
    }
    return after;
  }

  /** Finishes every recorded write whose writer died or gave up; resolves with how many. */
  recoverAll(): Promise<number> {
    return this.#leases.recoverAll();
  }

  /**
   * The key document with this id, checked to be the one asked for. `maxTimeMS` (a read of a store call
   * bounded by `timeoutMs`) has the server cancel a slow read instead of leaving it running.
   */
  async readKey(id: string, maxTimeMS?: number): Promise<KeyDocument | null> {
    const doc = await this.#c.keys.findOne({ _id: id }, maxTimeMS === undefined ? {} : { maxTimeMS });
    if (doc && doc._id !== id) throw new Error('the server answered another key document');
    return doc;
  }

  async #run(id: string, state: WriteState, prepare: () => Promise<PendingWrite | null>): Promise<void> {
    const lease = await this.#leases.acquire(id, state);
    try {
      await this.#crash('leased', id);
      const op = await prepare();
      if (!op) {
        await this.#leases.release(lease);
        return;
      }
      // Announced before anything is written: every instance hears of a change that may land. (A new
      // key is in no cache: inserts are not announced.)
      if (!op.insert) {
        await this.#announce(id).catch((error: unknown) => {
          throw new KeyStoreUnavailableError(error);
        });
      }
      if (state.cancelled) throw new LeaseLost('the caller gave up before the write was recorded');
      state.recorded = true;
      await this.#leases.record(lease, op);
      await this.#crash('recorded', id);
      await this.#apply(op);
      await this.#crash('written', id);
      await this.#finish(lease, op);
    } catch (error) {
      if (error instanceof Crashed) throw error.cause;
      if (!state.recorded || error instanceof LeaseLost) {
        state.recorded = false;
        await this.#leases.release(lease).catch(() => {});
        throw error;
      }
      if (error instanceof DuplicateKeyError || error instanceof Superseded) {
        // Refused by a unique field (its own writes undone) or overtaken: nothing of it landed.
        await this.#leases.release(lease).catch(() => {});
        state.recorded = false;
        throw error;
      }
      // Recorded, outcome unknown: whoever takes the lease next finishes it.
      await this.#leases.abandon(lease).catch(() => {});
      throw new KeyStoreUnavailableError(error, { mayHaveApplied: true });
    }
  }

  /** After the key write: the event, the second announcement, the release. */
  async #finish(lease: Lease, op: PendingWrite): Promise<void> {
    try {
      await this.#writeEvent(op.event);
      await this.#writeEvent(op.successorEvent);
    } catch (error) {
      // The change has happened; its event is finished by the next holder or by `recoverAll`.
      log('event %s not written yet (%s)', op.event?._id, (error as Error).name);
      await this.#leases.abandon(lease).catch(() => {});
      return;
    }
    await this.#crash('event-written', op.keyId);
    await (op.insert ? Promise.resolve() : this.#announce(op.keyId)).catch((error: unknown) => {
      log('change-log entry after a write failed (%s); announced before it', (error as Error).name);
    });
    await this.#crash('announced', op.keyId);
    await this.#leases.release(lease).catch((error: unknown) => {
      log('lease not released (%s); it expires', (error as Error).name);
    });
  }

  /** Runs a recorded write's steps again (each is idempotent), then its event. */
  async #recover(op: PendingWrite): Promise<void> {
    try {
      await this.#apply(op);
    } catch (error) {
      if (error instanceof Superseded || error instanceof DuplicateKeyError) return; // never landed
      throw error;
    }
    await this.#writeEvent(op.event);
    await this.#writeEvent(op.successorEvent);
    if (!op.insert) await this.#announce(op.keyId).catch(() => {});
  }

  /**
   * The writes of `op`, each idempotent: inserts tolerate their own earlier attempt (same `op`), the key
   * write is conditional on the base version and tells its own earlier landing by `op`.
   */
  async #apply(op: PendingWrite): Promise<void> {
    if (op.insert) {
      await this.#insertKey(op.insert, op.id);
      return;
    }
    const key = await this.readKey(op.keyId);
    if (!key) {
      await this.#undo(op);
      throw new Superseded('the key is gone');
    }
    // Landed already: by this writer, or by the next holder of the lease, which finishes a recorded write
    // before anything of its own (so a later version means this write landed first).
    const version = key.version ?? 0;
    if (key.op === op.id || version > (op.base as number)) {
      if (op.rehash && key.hash !== op.rehash.from) await this.#dropPointer(op.rehash.from, op.keyId);
      return;
    }
    if (op.successor) await this.#insertKey(op.successor, op.id);
    if (op.rehash) {
      try {
        await this.#point(op.rehash.to, op.keyId);
      } catch (error) {
        await this.#undo(op);
        throw error;
      }
    }
    const base = op.base as number;
    const written = await this.#c.keys
      .updateOne(
        // A document written before versions existed has none: it is version 0.
        { _id: op.keyId, version: (base === 0 ? { $in: [0, null] } : base) as never },
        { $set: { ...op.set, version: base + 1, op: op.id } },
      )
      .catch(async (error: unknown) => {
        const mapped = toStoreError(error);
        if (!(mapped instanceof DuplicateKeyError)) throw error;
        await this.#undo(op); // a `slot` another key holds
        throw mapped;
      });
    const after = written.matchedCount === 1 ? null : await this.readKey(op.keyId);
    if (after && after.op !== op.id && (after.version ?? 0) <= base) {
      await this.#undo(op);
      throw new Superseded('the key moved on without this write');
    }
    if (op.rehash) await this.#dropPointer(op.rehash.from, op.keyId);
  }

  /** The old hash leaves the store once the key has its new one. */
  async #dropPointer(hash: string, keyId: string): Promise<void> {
    await this.#c.hashes.deleteOne({ _id: hash, keyId });
  }

  /** Takes back what a write that cannot land inserted (its successor, its new pointer). */
  async #undo(op: PendingWrite): Promise<void> {
    if (op.successor) {
      await this.#c.hashes.deleteOne({ _id: op.successor.hash, keyId: op.successor._id });
      await this.#c.keys.deleteOne({ _id: op.successor._id, op: op.id });
    }
    if (op.rehash) await this.#c.hashes.deleteOne({ _id: op.rehash.to, keyId: op.keyId });
  }

  /** Inserts a key document and its hash pointer; `DuplicateKeyError` (nothing left) when taken. */
  async #insertKey(doc: KeyDocument, opId: string): Promise<void> {
    try {
      await this.#c.keys.insertOne({ ...doc, op: opId });
    } catch (error) {
      if (!isDuplicate(error) && !(toStoreError(error) instanceof DuplicateKeyError)) throw error;
      if ((await this.readKey(doc._id))?.op !== opId) throw toStoreError(error);
    }
    try {
      await this.#point(doc.hash, doc._id);
    } catch (error) {
      await this.#c.keys.deleteOne({ _id: doc._id, op: opId });
      throw error;
    }
  }

  /** Makes `hash` point to the key; `DuplicateKeyError('hash')` when it points to another key. */
  async #point(hash: string, keyId: string): Promise<void> {
    try {
      await this.#c.hashes.insertOne({ _id: hash, keyId });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
      const pointer = await this.#c.hashes.findOne({ _id: hash });
      if (pointer?._id !== hash || pointer.keyId !== keyId) throw new DuplicateKeyError('hash');
    }
  }

  async #writeEvent(event: EventDocument | undefined): Promise<void> {
    if (!event) return;
    await this.#faults.beforeAppend?.(event._id);
    try {
      await this.#c.events.insertOne(event);
    } catch (error) {
      if (!isDuplicate(error)) throw error; // written by an earlier attempt
    }
    await this.#faults.beforeClear?.(event._id);
  }

  async #crash(step: WriteStep, id: string): Promise<void> {
    try {
      await this.#faults.crash?.(step, id);
    } catch (error) {
      throw new Crashed(error);
    }
  }
}

function newWriteId(): string {
  return randomBytes(12).toString('base64url');
}
