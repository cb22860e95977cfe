/** A refill of credits: every `intervalSeconds` the balance is set back to `amount`. */
export interface CreditRefill {
  amount: number;
  intervalSeconds: number;
}

/**
 * A key's own credits as the store keeps them (docs/reference.md §10): the balance the operator set
 * (`remaining`, valid until the first refill), the refill, and the grant they started with. Setting credits
 * again starts a new grant (a new `grantId`): its balance counts from the value set, not from what was
 * spent before.
 */
export interface StoredCredits {
  remaining: number;
  refill: CreditRefill | null;
  /** Random, new on every set: names the grant's ledger chains. Never a token or hash. */
  grantId: string;
  /** When the grant was set: refills fall at `grantedAt + k × intervalSeconds`. */
  grantedAt: Date;
}

/**
 * A key's credits as verify hands them to the middleware (on `KeyPolicy.credits`), compiled once per cached
 * key and frozen.
 */
export interface CreditPolicy {
  /** Names the ledger chains: `credits:<lineageId>:<grant>` (a rolled key and its successor share them). */
  readonly account: string;
  /** The balance of the first period (until the first refill). */
  readonly remaining: number;
  readonly refill: Readonly<CreditRefill> | null;
  /** Where periods start (ms since the epoch): the grant's time, or 0 for a plan's (aligned) periods. */
  readonly anchorMs: number;
}

/**
 * One entry of a credit chain as a store keeps it (docs/reference.md §10). A chain is the ledger of one
 * account in one refill period; its entries are only ever inserted, each under a unique id:
 * - a block `<chain>:<n>` (n = 0, 1, …): an instance leased `size` credits; block n+1 is inserted only by
 *   an instance that read block n, so the blocks' sizes add up to what was leased;
 * - a return `<chain>:<n>:return`: the holder of block n gave back `amount` credits it did not spend.
 */
export type CreditEntry =
  | { kind: 'block'; n: number; size: number; leasedUntil: Date }
  | { kind: 'return'; n: number; amount: number };

/**
 * The optional methods of a store that keeps credit ledgers (docs/reference.md §10). Every write is an insert of
 * a unique id, so that the ledger is exact on servers without atomic updates (FerretDB). All three or none.
 * Run `runCreditLedgerConformance` from `@keyward/core/testing` against every implementation.
 */
export interface CreditLedgerStore {
  /** Every entry of the chain, in any order (`[]` for a chain nobody leased from). */
  readCredits?(chain: string): Promise<CreditEntry[]>;
  /**
   * Inserts block `n` of the chain. Resolves `true` when inserted, `false` when block `n` already exists
   * (another instance leased it first: nothing was written).
   */
  leaseCredits?(chain: string, block: { n: number; size: number; leasedUntil: Date }): Promise<boolean>;
  /** Inserts the return of block `n`; a second return of the same block is ignored (the first one stays). */
  returnCredits?(chain: string, n: number, amount: number): Promise<void>;
}
