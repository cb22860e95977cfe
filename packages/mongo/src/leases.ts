import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { mongo } from 'mongoose';
import type { LockDocument, PendingWrite } from './schema.js';

/** A lease held by this process: the right to write one key until `until` (local clock, with a margin). */
export interface Lease {
  id: string;
  owner: string;
  until: number;
  /** Whether taking it finished a write its previous holder had left half-way. */
  recovered: boolean;
}

/** Lets a caller that gave up (timed out) stop a write before it records anything. */
export interface WriteState {
  cancelled: boolean;
  recorded: boolean;
}

/** The lease was lost or given up before the write recorded anything: nothing was written. */
export class LeaseLost extends Error {
  constructor(message = 'the lease on the key was lost before anything was written') {
    super(message);
    this.name = 'LeaseLost';
  }
}

export const isDuplicate = (error: unknown) => (error as { code?: unknown })?.code === 11000;

/**
 * Mutual exclusion per key on any MongoDB-wire server: a lease is a document `{ _id: keyId, owner,
 * expiresAt }` in `<collection>_locks`, taken by inserting it. An insert of a unique `_id` is atomic on
 * MongoDB and on FerretDB alike, so exactly one of several takers gets it. Released by deleting it.
 *
 * A lease whose holder died expires after `leaseMs`. It is taken over through an election that is an insert
 * too: a claim `{ _id: "<keyId>~<owner>~<n>" }`; the one taker whose claim insert succeeds replaces the
 * expired lease (filter `owner`: nobody else writes a lease of that owner), carrying over the write the
 * dead holder had recorded in it, and finishes that write (`recover`) before it writes anything of its own.
 * A claim whose taker died expires too; the next taker claims `n + 1`. Claims are never deleted by anyone
 * but their taker, so no delete can remove another taker's claim (deletes with a condition are a read and
 * a delete on FerretDB).
 */
export class Leases {
  readonly #locks: mongo.Collection<LockDocument>;
  readonly #leaseMs: number;
  readonly #recover: (op: PendingWrite) => Promise<void>;

  constructor(
    locks: mongo.Collection<LockDocument>,
    leaseMs: number,
    recover: (op: PendingWrite) => Promise<void>,
  ) {
    this.#locks = locks;
    this.#leaseMs = leaseMs;
    this.#recover = recover;
  }

  /** Takes the key's lease, waiting while another holder has it and taking it over once it has expired. */
  async acquire(id: string, state?: WriteState): Promise<Lease> {
    for (let attempt = 0; ; attempt++) {
      if (state?.cancelled) throw new LeaseLost('the caller gave up before the lease was taken');
      const owner = newOwner();
      const now = Date.now();
      try {
        await this.#locks.insertOne({ _id: id, owner, expiresAt: new Date(now + this.#leaseMs) });
        return this.#held(id, owner, now, false, state);
      } catch (error) {
        if (!isDuplicate(error)) throw error;
      }
      const current = await this.#locks.findOne({ _id: id });
      if (current && current._id !== id) throw new Error('the server answered another lock document');
      if (current?.owner && current.expiresAt.getTime() <= Date.now()) {
        const taken = await this.#takeOver(current, state);
        if (taken) return taken;
      }
      if (current) await sleep(Math.min(50, 5 + attempt * 2) * (0.5 + Math.random()));
    }
  }

  /** Throws `LeaseLost` when this process can no longer be sure it holds `lease` (local clock). */
  check(lease: Lease): void {
    if (Date.now() >= lease.until) throw new LeaseLost('the lease ran out before the write was recorded');
  }

  /** Records `op` in the lease, before any of its writes: from here on, it is finished by someone. */
  async record(lease: Lease, op: PendingWrite): Promise<void> {
    this.check(lease);
    const result = await this.#locks.updateOne({ _id: lease.id, owner: lease.owner }, { $set: { op } });
    if (result.matchedCount !== 1)
      throw new LeaseLost('the lease was taken over before the write was recorded');
  }

  /** Ends the lease (the write it recorded, if any, is complete). */
  async release(lease: Lease): Promise<void> {
    await this.#locks.deleteOne({ _id: lease.id, owner: lease.owner });
  }

  /** Gives the lease up with its recorded write unfinished: expired now, so the next taker finishes it. */
  async abandon(lease: Lease): Promise<void> {
    await this.#locks.updateOne({ _id: lease.id, owner: lease.owner }, { $set: { expiresAt: new Date(0) } });
  }

  /** Waits until the key has no unfinished recorded write (finishing one whose holder died). */
  async settle(id: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const lock = await this.#locks.findOne({ _id: id });
      if (!lock?.op || lock._id !== id) return;
      if (lock.expiresAt.getTime() <= Date.now()) {
        await this.release(await this.acquire(id));
        return;
      }
      await sleep(Math.min(50, 5 + attempt * 2));
    }
  }

  /** Finishes every write whose holder died or gave up (expired leases with a recorded write). */
  async recoverAll(): Promise<number> {
    const now = new Date();
    const stale = await this.#locks
      .find({ op: { $exists: true }, expiresAt: { $lte: now } })
      .project<{ _id: string }>({ _id: 1 })
      .limit(1_000)
      .toArray();
    let recovered = 0;
    for (const { _id } of stale) {
      if (typeof _id !== 'string' || _id.includes('~')) continue;
      const lease = await this.acquire(_id);
      if (lease.recovered) recovered++;
      await this.release(lease);
    }
    // Claims left by takers that died (harmless, but they would pile up).
    await this.#locks.deleteMany({ claim: true, expiresAt: { $lt: new Date(now.getTime() - 60_000) } });
    return recovered;
  }

  async #takeOver(stale: LockDocument, state?: WriteState): Promise<Lease | null> {
    for (let n = 0; ; n++) {
      if (state?.cancelled) throw new LeaseLost('the caller gave up before the lease was taken');
      const claim = `${stale._id}~${stale.owner}~${n}`;
      try {
        await this.#locks.insertOne({
          _id: claim,
          claim: true,
          expiresAt: new Date(Date.now() + this.#leaseMs),
        });
        break;
      } catch (error) {
        if (!isDuplicate(error)) throw error;
      }
      const other = await this.#locks.findOne({ _id: claim });
      // Another taker is at it: wait for it.
      if (other && other.expiresAt.getTime() > Date.now()) return null;
    }
    const owner = newOwner();
    const now = Date.now();
    const replaced = await this.#locks.replaceOne(
      { _id: stale._id, owner: stale.owner },
      { owner, expiresAt: new Date(now + this.#leaseMs), ...(stale.op && { op: stale.op }) },
    );
    if (replaced.matchedCount !== 1) return null; // its holder released it meanwhile
    const lease = this.#held(stale._id, owner, now, false);
    if (stale.op) {
      try {
        await this.#recover(stale.op);
        await this.#locks.updateOne({ _id: lease.id, owner }, { $unset: { op: '' } });
      } catch (error) {
        await this.abandon(lease).catch(() => {});
        throw error;
      }
      lease.recovered = true;
    }
    return lease;
  }

  #held(id: string, owner: string, now: number, recovered: boolean, state?: WriteState): Lease {
    const lease = { id, owner, until: now + Math.floor(this.#leaseMs * 0.8), recovered };
    if (state?.cancelled) {
      void this.release(lease).catch(() => {});
      throw new LeaseLost('the caller gave up before the lease was taken');
    }
    return lease;
  }
}

function newOwner(): string {
  return randomBytes(9).toString('base64url');
}
