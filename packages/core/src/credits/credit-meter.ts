import type { CreditLedgerStore, CreditPolicy } from '../shared/credit-types.js';
import { chainState } from './credit-chain.js';
import { type CreditPeriod, creditPeriod } from './credit-period.js';

/** The answer of `CreditMeter.spend`. */
export type CreditAnswer =
  | {
      ok: true;
      /**
       * The balance after this request as this instance knows it: exact on one instance; with several, an
       * upper estimate (other instances' spending since this one last read the ledger is not in it).
       */
      remaining: number;
    }
  | {
      ok: false;
      /** Until the next refill (ms); `null`: none is due. */
      retryAfterMs: number | null;
    };

/** How the meter leases (docs/reference.md §10); resolved from `createKeyward`'s `credits` option. */
export interface CreditMeterSettings {
  /** Block size = max(cost, ⌊available / (2 × expectedInstances)⌋): the share of one instance. */
  expectedInstances: number;
  /** A block not spent from for this long (one to two sweeps of it) is returned (ms). */
  idleReturnMs: number;
  /** A block is spent from for at most this long, then its rest is returned (ms). */
  leaseMs: number;
}

interface Block {
  n: number;
  left: number;
  /** The lease's end (ms, the service's clock). */
  until: number;
}

interface Holding {
  chain: string;
  /**
   * When the current time falls in [`from`, `to`) and the policy has this refill interval (s; 0 without a
   * refill) and anchor, its period is `chain`: `spend` then needs no period computed (a string built) per
   * request. `interval` is `-1` until it is known, and again whenever `chain` changes.
   */
  interval: number;
  anchorMs: number;
  from: number;
  to: number;
  blocks: Block[];
  /** The earliest lease end among `blocks` (ms; `Infinity` without blocks): `spend` checks expiry with one comparison. */
  soonest: number;
  /** Credits left in `blocks`, all together. */
  left: number;
  /** The ledger's unleased balance when this instance last read it. */
  storeLeft: number;
  /** Spent from since the last idle sweep. */
  used: boolean;
  /** The lease in flight (requests that find no credits wait for it), or `null`. */
  queue: Promise<unknown> | null;
}

/** The most lease attempts of one request when other instances keep winning the next block. */
const MAX_LEASE_ATTEMPTS = 20;

/**
 * Spends credits (docs/reference.md §10) from blocks this instance leased from the store's ledger: a request
 * whose credits are already leased here costs no store round trip; a lease is one read of the period's chain
 * plus one insert. Blocks shrink to one credit as the balance nears zero; a block not used for
 * `idleReturnMs`, or older than `leaseMs`, is returned (one insert), as is every block on `close`. An
 * instance that dies holding a block loses at most that block's unspent credits for the period.
 *
 * @example
 * const answer = await meter.spend(policy.credits, 1);
 * if (!answer.ok) refuse(answer.retryAfterMs);
 */
export class CreditMeter {
  readonly #store: CreditLedgerStore;
  readonly #clock: () => number;
  readonly #settings: CreditMeterSettings;
  readonly #holdings = new Map<string, Holding>();
  readonly #pending = new Set<Promise<void>>();
  readonly #onError: (error: unknown) => void;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    store: CreditLedgerStore,
    clock: () => number,
    settings: CreditMeterSettings,
    onError: (error: unknown) => void = () => {},
  ) {
    this.#store = store;
    this.#clock = clock;
    this.#settings = settings;
    this.#onError = onError;
  }

  /**
   * Spends `cost` credits of the account (`0`: only checks that its balance is above zero). Answered without
   * waiting when this instance holds enough credits of the current period.
   */
  spend(policy: CreditPolicy, cost: number): CreditAnswer | Promise<CreditAnswer> {
    const now = this.#clock();
    const holding = this.#holdings.get(policy.account);
    if (holding !== undefined && holding.queue === null && this.#inChain(holding, policy, now)) {
      this.#dropExpired(holding, now);
      if (cost === 0 ? holding.left > 0 : holding.left >= cost) return this.#take(holding, cost);
    }
    return this.#queued(policy, cost);
  }

  /** Whether `now` falls in the holding's period (`chain`) under `policy`; remembers that period's bounds. */
  #inChain(h: Holding, policy: CreditPolicy, now: number): boolean {
    const interval = policy.refill === null ? 0 : policy.refill.intervalSeconds;
    if (interval === h.interval && policy.anchorMs === h.anchorMs && now >= h.from && now < h.to) return true;
    const period = creditPeriod(policy, now);
    if (period.chain !== h.chain) return false;
    h.interval = interval;
    h.anchorMs = policy.anchorMs;
    h.from = period.startsAt ?? Number.NEGATIVE_INFINITY;
    h.to = period.endsAt ?? Number.POSITIVE_INFINITY;
    return true;
  }

  /**
   * The account's balance in the current period as the ledger says: leased blocks count as spent, except
   * this instance's own unspent credits. With when the next refill falls (ms; `null`: none).
   */
  async balance(policy: CreditPolicy): Promise<{ remaining: number; refillsAt: number | null }> {
    const period = creditPeriod(policy, this.#clock());
    const state = chainState(await this.#ledger().readCredits(period.chain));
    const holding = this.#holdings.get(policy.account);
    const own = holding?.chain === period.chain ? holding.left : 0;
    return {
      remaining: Math.max(0, period.base - state.leased + state.returned + own),
      refillsAt: period.endsAt,
    };
  }

  /** Returns every block this instance holds (e.g. before shutting down) and waits for the returns. */
  async close(): Promise<void> {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const [account, holding] of this.#holdings) {
      this.#release(holding);
      this.#holdings.delete(account);
    }
    await Promise.all([...this.#pending]);
  }

  /** Forgets what this instance holds of the account, returning it (the operator set new credits). */
  forget(account: string): void {
    const holding = this.#holdings.get(account);
    if (holding === undefined) return;
    this.#release(holding);
    this.#holdings.delete(account);
  }

  #queued(policy: CreditPolicy, cost: number): Promise<CreditAnswer> {
    let holding = this.#holdings.get(policy.account);
    if (holding === undefined) {
      holding = {
        chain: '',
        interval: -1,
        anchorMs: 0,
        from: 0,
        to: 0,
        blocks: [],
        soonest: Number.POSITIVE_INFINITY,
        left: 0,
        storeLeft: 0,
        used: false,
        queue: null,
      };
      this.#holdings.set(policy.account, holding);
    }
    const h = holding;
    // One lease at a time per account and instance: requests that find no credits wait for it.
    const run = (h.queue ?? Promise.resolve()).then(() => this.#acquire(h, policy, cost));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    h.queue = tail;
    void tail.then(() => {
      if (h.queue === tail) h.queue = null;
    });
    return run;
  }

  async #acquire(h: Holding, policy: CreditPolicy, cost: number): Promise<CreditAnswer> {
    let now = this.#clock();
    let period = creditPeriod(policy, now);
    for (let attempt = 0; attempt < MAX_LEASE_ATTEMPTS; attempt++) {
      if (h.chain !== period.chain) {
        // A new period (a refill): what is left of the old one goes back to its own chain.
        this.#release(h);
        h.chain = period.chain;
        h.interval = -1;
      }
      this.#dropExpired(h, now);
      if (cost === 0 ? h.left > 0 : h.left >= cost) return this.#take(h, cost);
      const state = chainState(await this.#ledger().readCredits(period.chain));
      now = this.#clock();
      const current = creditPeriod(policy, now);
      if (current.chain !== period.chain) {
        period = current;
        continue;
      }
      const available = period.base - state.leased + state.returned;
      if (cost === 0) {
        if (available > 0) return { ok: true, remaining: available + h.left };
        return this.#refusal(period, now);
      }
      const need = cost - h.left;
      if (available < need) return this.#refusal(period, now);
      const share = Math.floor(available / (2 * this.#settings.expectedInstances));
      const size = Math.min(available, Math.max(need, share));
      const until = now + this.#settings.leaseMs;
      const won = await this.#ledger().leaseCredits(period.chain, {
        n: state.next,
        size,
        leasedUntil: new Date(until),
      });
      if (!won) continue; // another instance leased block `next` first: read the chain again
      if (h.chain !== period.chain) {
        // The period turned while we leased: the block belongs to the old chain; give it back whole.
        this.#giveBack(period.chain, state.next, size);
        continue;
      }
      h.blocks.push({ n: state.next, left: size, until });
      if (until < h.soonest) h.soonest = until;
      h.left += size;
      h.storeLeft = available - size;
      this.#startSweeps();
      return this.#take(h, cost);
    }
    // Other instances kept winning every block: refuse this one request rather than wait without end.
    return { ok: false, retryAfterMs: 1000 };
  }

  #take(h: Holding, cost: number): CreditAnswer {
    h.used = true;
    let due = cost;
    while (due > 0) {
      const block = h.blocks[0] as Block;
      const spent = Math.min(due, block.left);
      block.left -= spent;
      due -= spent;
      if (block.left === 0) h.blocks.shift();
    }
    h.left -= cost;
    return { ok: true, remaining: h.left + h.storeLeft };
  }

  /** 429, with the time until the next refill (`null` without one). */
  #refusal(period: CreditPeriod, now: number): CreditAnswer {
    return { ok: false, retryAfterMs: period.endsAt === null ? null : Math.max(0, period.endsAt - now) };
  }

  #dropExpired(h: Holding, now: number): void {
    if (now < h.soonest) return; // `soonest` is never later than the earliest lease end
    const live: Block[] = [];
    let soonest = Number.POSITIVE_INFINITY;
    for (const block of h.blocks) {
      if (block.until > now) {
        live.push(block);
        if (block.until < soonest) soonest = block.until;
      } else {
        this.#giveBack(h.chain, block.n, block.left);
        h.left -= block.left;
      }
    }
    h.blocks = live;
    h.soonest = soonest;
  }

  #release(h: Holding): void {
    for (const block of h.blocks) this.#giveBack(h.chain, block.n, block.left);
    h.blocks = [];
    h.soonest = Number.POSITIVE_INFINITY;
    h.left = 0;
    h.storeLeft = 0;
  }

  #giveBack(chain: string, n: number, amount: number): void {
    if (amount <= 0) return;
    const done = this.#ledger()
      .returnCredits(chain, n, amount)
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  /** Every `idleReturnMs`: blocks of accounts nobody spent from since the last sweep go back. */
  #startSweeps(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#sweep(), this.#settings.idleReturnMs);
    this.#timer.unref?.();
  }

  #sweep(): void {
    for (const [account, h] of this.#holdings) {
      if (h.queue !== null) continue;
      if (h.used) {
        h.used = false;
        this.#dropExpired(h, this.#clock());
        continue;
      }
      this.#release(h);
      this.#holdings.delete(account);
    }
    if (this.#holdings.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  #ledger(): Required<CreditLedgerStore> {
    const store = this.#store;
    if (!store.readCredits || !store.leaseCredits || !store.returnCredits) {
      throw new TypeError('Keyward: credits need a store with readCredits, leaseCredits and returnCredits');
    }
    return store as Required<CreditLedgerStore>;
  }
}
