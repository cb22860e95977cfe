import type { CreditEntry, CreditLedgerStore } from '../shared/credit-types.js';

/**
 * The credit ledger of `MemoryKeyStore` (docs/reference.md §10): the same contract as the shared stores' —
 * entries only inserted, each under a unique id — for the instances of one process.
 *
 * @example
 * const ledger = new MemoryCreditLedger();
 * await ledger.leaseCredits('credits:key_1:g:0', { n: 0, size: 5, leasedUntil: new Date() }); // true
 */
export class MemoryCreditLedger implements Required<CreditLedgerStore> {
  readonly #chains = new Map<string, Map<string, CreditEntry>>();

  async readCredits(chain: string): Promise<CreditEntry[]> {
    return [...(this.#chains.get(chain)?.values() ?? [])].map((entry) =>
      entry.kind === 'block' ? { ...entry, leasedUntil: new Date(entry.leasedUntil) } : { ...entry },
    );
  }

  async leaseCredits(chain: string, block: { n: number; size: number; leasedUntil: Date }): Promise<boolean> {
    const entries = this.#entries(chain);
    const id = String(block.n);
    if (entries.has(id)) return false;
    entries.set(id, {
      kind: 'block',
      n: block.n,
      size: block.size,
      leasedUntil: new Date(block.leasedUntil),
    });
    return true;
  }

  async returnCredits(chain: string, n: number, amount: number): Promise<void> {
    const entries = this.#entries(chain);
    const id = `${n}:return`;
    if (!entries.has(id)) entries.set(id, { kind: 'return', n, amount });
  }

  #entries(chain: string): Map<string, CreditEntry> {
    let entries = this.#chains.get(chain);
    if (entries === undefined) {
      entries = new Map();
      this.#chains.set(chain, entries);
    }
    return entries;
  }
}
