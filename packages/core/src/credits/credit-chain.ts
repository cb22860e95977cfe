import type { CreditEntry } from '../shared/credit-types.js';

/** What a chain's entries add up to (docs/reference.md §10). */
export interface CreditChainState {
  /** The next block's number: one past the highest block. */
  next: number;
  /** The credits leased, all blocks together. */
  leased: number;
  /** The credits given back, all returns together (each at most its block's size). */
  returned: number;
  /** Blocks not returned yet, by number, with when their lease ends (ms). */
  open: Map<number, number>;
}

/**
 * Adds a chain's entries up. The balance of the period is `base − leased + returned`: a block counts as spent
 * from its lease until its return, so that a race between instances can only refuse too early, never admit
 * more than the balance.
 *
 * @example
 * const { leased, returned } = chainState(await store.readCredits(chain));
 */
export function chainState(entries: readonly CreditEntry[]): CreditChainState {
  const sizes = new Map<number, { size: number; until: number }>();
  const returns = new Map<number, number>();
  let next = 0;
  for (const entry of entries) {
    if (entry.kind === 'block') {
      sizes.set(entry.n, { size: entry.size, until: entry.leasedUntil.getTime() });
      if (entry.n + 1 > next) next = entry.n + 1;
    } else returns.set(entry.n, entry.amount);
  }
  let leased = 0;
  let returned = 0;
  const open = new Map<number, number>();
  for (const [n, { size, until }] of sizes) {
    leased += size;
    const back = returns.get(n);
    // A return never gives back more than its block held (a defensive clamp: stores insert what we send).
    if (back === undefined) open.set(n, until);
    else returned += Math.min(Math.max(0, back), size);
  }
  return { next, leased, returned, open };
}
