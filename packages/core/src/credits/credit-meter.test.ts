import { describe, expect, it } from 'vitest';
import type { CreditPolicy } from '../shared/credit-types.js';
import { type CreditAnswer, CreditMeter, type CreditMeterSettings } from './credit-meter.js';
import { MemoryCreditLedger } from './memory-credit-ledger.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');
/** Leases longer than these tests' clocks run, but for the one that ends a lease. */
const SETTINGS: CreditMeterSettings = { expectedInstances: 2, idleReturnMs: 600_000, leaseMs: 3_600_000 };
const SHORT_LEASES: CreditMeterSettings = { ...SETTINGS, leaseMs: 30_000 };

/** A memory ledger that counts its reads. */
function countedLedger() {
  const ledger = new MemoryCreditLedger();
  const counts = { reads: 0 };
  const readCredits = ledger.readCredits.bind(ledger);
  ledger.readCredits = (chain) => {
    counts.reads++;
    return readCredits(chain);
  };
  return { ledger, counts };
}

/** Lets the meter finish its lease's bookkeeping (its queue clears a few microtasks after the answer). */
const settled = () => new Promise((resolve) => setImmediate(resolve));

const isPromise = (answer: CreditAnswer | Promise<CreditAnswer>): answer is Promise<CreditAnswer> =>
  answer instanceof Promise;

describe('CreditMeter on one instance', () => {
  it('answers from a held block without waiting while its period lasts, and leases anew at a refill', async () => {
    const { ledger, counts } = countedLedger();
    let now = START + 1_000;
    const meter = new CreditMeter(ledger, () => now, SETTINGS);
    // The same frozen policy object on every request, as verify hands it out.
    const policy: CreditPolicy = Object.freeze({
      account: 'credits:key_1:g1',
      remaining: 100,
      refill: Object.freeze({ amount: 100, intervalSeconds: 60 }),
      anchorMs: START,
    });
    expect(await meter.spend(policy, 1)).toEqual({ ok: true, remaining: 99 }); // leases ⌊100 / 4⌋ = 25
    expect(counts.reads).toBe(1);
    await settled();
    for (let i = 0; i < 10; i++) {
      now = START + 2_000 + i;
      const answer = meter.spend(policy, 1);
      expect(isPromise(answer)).toBe(false);
    }
    expect(counts.reads).toBe(1);
    // The last millisecond of the period still spends from it; the next one opens a new period.
    now = START + 59_999;
    const last = meter.spend(policy, 1);
    expect(isPromise(last)).toBe(false);
    expect(last).toEqual({ ok: true, remaining: 88 }); // 13 left in the block, 75 in the ledger
    expect(counts.reads).toBe(1);
    now = START + 60_000; // the block's 13 go back to the old period's chain
    const refilled = meter.spend(policy, 1);
    expect(isPromise(refilled)).toBe(true);
    expect(await refilled).toEqual({ ok: true, remaining: 99 });
    expect(counts.reads).toBe(2);
    await meter.close();
  });

  it('judges a policy of the same account with another refill interval (a plan changed) by its own period', async () => {
    const ledger = new MemoryCreditLedger();
    let now = START + 1_000;
    const meter = new CreditMeter(ledger, () => now, SETTINGS);
    const account = 'credits:key_1:plan.pro';
    const hourly: CreditPolicy = Object.freeze({
      account,
      remaining: 40,
      refill: Object.freeze({ amount: 40, intervalSeconds: 3_600 }),
      anchorMs: START,
    });
    const minutely: CreditPolicy = Object.freeze({
      ...hourly,
      refill: Object.freeze({ amount: 8, intervalSeconds: 60 }),
    });
    expect(await meter.spend(hourly, 1)).toEqual({ ok: true, remaining: 39 });
    await settled();
    now = START + 61_000;
    // Still the hourly plan's first period: spent from the block held.
    expect(isPromise(meter.spend(hourly, 1))).toBe(false);
    // The minutely plan is in its second period here: a new chain, opening with its refill of 8.
    const answer = meter.spend(minutely, 1);
    expect(isPromise(answer)).toBe(true);
    expect(await answer).toEqual({ ok: true, remaining: 7 });
    await meter.close();
  });

  it('returns a block whose lease ended before spending again, and leases a new one', async () => {
    const ledger = new MemoryCreditLedger();
    let now = START;
    const meter = new CreditMeter(ledger, () => now, SHORT_LEASES);
    const policy: CreditPolicy = Object.freeze({
      account: 'credits:key_2:g1',
      remaining: 100,
      refill: null,
      anchorMs: START,
    });
    expect(await meter.spend(policy, 1)).toEqual({ ok: true, remaining: 99 }); // block 0: 25 credits
    await settled();
    now = START + SHORT_LEASES.leaseMs - 1;
    expect(isPromise(meter.spend(policy, 1))).toBe(false);
    now = START + SHORT_LEASES.leaseMs; // block 0's lease ends: its 23 credits go back
    const answer = meter.spend(policy, 1);
    expect(isPromise(answer)).toBe(true);
    expect(await answer).toMatchObject({ ok: true });
    const entries = await ledger.readCredits('credits:key_2:g1:0');
    expect(entries).toContainEqual({ kind: 'return', n: 0, amount: 23 });
    expect(entries.filter((e) => e.kind === 'block').map((e) => e.n)).toEqual([0, 1]);
    await meter.close();
    expect((await meter.balance(policy)).remaining).toBe(97);
  });
});
