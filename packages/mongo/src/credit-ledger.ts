import type { CreditEntry, CreditLedgerStore } from '@keyward/core/store';
import type { mongo } from 'mongoose';
import { isDuplicate } from './leases.js';

/**
 * `<collection>_credits`: the credit ledger (docs/reference.md §10), one document per entry, only ever
 * inserted: a block `{ _id: "<chain>:<n>", chain, n, kind: "block", size, leasedUntil }` or a return
 * `{ _id: "<chain>:<n>:return", chain, n, kind: "return", amount }`. Exclusion rests on the unique `_id`
 * alone, so the ledger is exact on FerretDB (no atomic updates) as on MongoDB.
 */
export interface CreditDocument {
  _id: string;
  chain: string;
  n: number;
  kind: 'block' | 'return';
  size?: number;
  leasedUntil?: Date;
  amount?: number;
  /** When the entry was written (the server's clock is not used: the writer's). */
  at: Date;
}

/**
 * The credit ledger of `MongoKeyStore`: one read of a chain's entries (indexed by `chain`), one insert per
 * lease or return.
 *
 * @example
 * const ledger = new MongoCreditLedger(connection.collection('keyward_keys_credits'));
 */
export class MongoCreditLedger implements Required<CreditLedgerStore> {
  readonly #entries: mongo.Collection<CreditDocument>;

  constructor(entries: mongo.Collection<CreditDocument>) {
    this.#entries = entries;
  }

  /** The index reads go through: `{ chain: 1 }` (plain, so FerretDB has it too). */
  ensureIndexes(): Promise<unknown> {
    return this.#entries.createIndex({ chain: 1 }, { name: 'chain' });
  }

  async readCredits(chain: string): Promise<CreditEntry[]> {
    const docs = await this.#entries.find({ chain }).toArray();
    const entries: CreditEntry[] = [];
    for (const doc of docs) {
      if (doc.kind === 'block' && typeof doc.size === 'number' && doc.leasedUntil instanceof Date) {
        entries.push({ kind: 'block', n: doc.n, size: doc.size, leasedUntil: doc.leasedUntil });
      } else if (doc.kind === 'return' && typeof doc.amount === 'number') {
        entries.push({ kind: 'return', n: doc.n, amount: doc.amount });
      }
    }
    return entries;
  }

  async leaseCredits(chain: string, block: { n: number; size: number; leasedUntil: Date }): Promise<boolean> {
    try {
      await this.#entries.insertOne({
        _id: `${chain}:${block.n}`,
        chain,
        n: block.n,
        kind: 'block',
        size: block.size,
        leasedUntil: block.leasedUntil,
        at: new Date(),
      });
      return true;
    } catch (error) {
      if (isDuplicate(error)) return false;
      throw error;
    }
  }

  async returnCredits(chain: string, n: number, amount: number): Promise<void> {
    try {
      await this.#entries.insertOne({
        _id: `${chain}:${n}:return`,
        chain,
        n,
        kind: 'return',
        amount,
        at: new Date(),
      });
    } catch (error) {
      if (!isDuplicate(error)) throw error;
    }
  }
}
