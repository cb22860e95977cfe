import { describe, expect, it } from 'vitest';
import { CreditMeter, type CreditMeterSettings } from '../credits/credit-meter.js';
import type { CreditLedgerStore, CreditPolicy } from '../shared/credit-types.js';
import type { KeyStore } from '../store/store.js';

type WithStore = (run: (store: KeyStore, org: string) => Promise<void>) => Promise<void>;

const START = Date.parse('2030-01-01T00:00:00.000Z');
const SETTINGS: CreditMeterSettings = { expectedInstances: 2, idleReturnMs: 60_000, leaseMs: 30_000 };

function ledgerOf(store: KeyStore): Required<CreditLedgerStore> | null {
  return store.readCredits && store.leaseCredits && store.returnCredits
    ? (store as Required<CreditLedgerStore>)
    : null;
}

function policy(org: string, fields: Partial<CreditPolicy> = {}): CreditPolicy {
  return { account: `credits:${org}:g1`, remaining: 5, refill: null, anchorMs: START, ...fields };
}

/**
 * Conformance of the optional credit ledger (`readCredits`, `leaseCredits`, `returnCredits`,
 * docs/reference.md §10), skipped for a store without it. Part of `runKeyStoreConformance`: the ledger's
 * exactness rests on the store's inserts of unique ids, so it is checked on every server a store supports.
 */
export function describeCreditLedgerConformance(withStore: WithStore): void {
  describe('credit ledger', () => {
    it('lets exactly one of 16 concurrent leases of one block in, and lists blocks and returns', (ctx) =>
      withStore(async (store, org) => {
        const ledger = ledgerOf(store);
        if (ledger === null) return ctx.skip();
        const chain = `credits:${org}:g1:0`;
        const until = new Date(START + 1000);
        const wins = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            ledger.leaseCredits(chain, { n: 0, size: i + 1, leasedUntil: until }),
          ),
        );
        expect(wins.filter(Boolean)).toHaveLength(1);
        const size = wins.indexOf(true) + 1;
        await ledger.returnCredits(chain, 0, 1);
        await ledger.returnCredits(chain, 0, 2); // a second return of block 0 is ignored
        expect(await ledger.leaseCredits(`credits:${org}:g1:1`, { n: 0, size: 9, leasedUntil: until })).toBe(
          true,
        );
        const entries = await ledger.readCredits(chain);
        expect(entries).toHaveLength(2);
        expect(entries).toContainEqual({ kind: 'block', n: 0, size, leasedUntil: until });
        expect(entries).toContainEqual({ kind: 'return', n: 0, amount: 1 });
        expect(await ledger.readCredits(`credits:${org}:other:0`)).toEqual([]);
      }));

    it('admits exactly 5 of 20 concurrent requests with 5 credits through two instances', (ctx) =>
      withStore(async (store, org) => {
        if (ledgerOf(store) === null) return ctx.skip();
        const clock = () => START;
        const meters = [new CreditMeter(store, clock, SETTINGS), new CreditMeter(store, clock, SETTINGS)];
        const p = policy(org);
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (meters[i % 2] as CreditMeter).spend(p, 1)),
        );
        expect(answers.filter((a) => a.ok)).toHaveLength(5);
        expect(answers.filter((a) => !a.ok)).toHaveLength(15);
        await Promise.all(meters.map((m) => m.close()));
        expect((await meters[0]?.balance(p))?.remaining).toBe(0);
      }));

    it('loses at most the block of an instance that dies holding it, and never overspends', (ctx) =>
      withStore(async (store, org) => {
        if (ledgerOf(store) === null) return ctx.skip();
        const clock = () => START;
        const p = policy(org, { remaining: 100 });
        const dying = new CreditMeter(store, clock, SETTINGS);
        // The first lease of 100 credits with 2 expected instances is a block of 25.
        for (let i = 0; i < 3; i++) expect((await dying.spend(p, 1)).ok).toBe(true);
        // `dying` never returns its block (no close): its 22 unspent credits are lost for the period.
        const survivor = new CreditMeter(store, clock, SETTINGS);
        let admitted = 0;
        for (;;) {
          const answer = await survivor.spend(p, 1);
          if (!answer.ok) break;
          admitted++;
        }
        expect(admitted).toBe(75);
        await survivor.close();
        expect(await survivor.balance(p)).toEqual({ remaining: 0, refillsAt: null });
      }));

    it('refills at the period boundary of an injected clock, and tells when', (ctx) =>
      withStore(async (store, org) => {
        if (ledgerOf(store) === null) return ctx.skip();
        let now = START + 10_000;
        const meter = new CreditMeter(store, () => now, SETTINGS);
        const p = policy(org, { remaining: 3, refill: { amount: 2, intervalSeconds: 60 } });
        for (let i = 0; i < 3; i++) expect((await meter.spend(p, 1)).ok).toBe(true);
        expect(await meter.spend(p, 1)).toEqual({ ok: false, retryAfterMs: 50_000 });
        now = START + 59_999;
        expect((await meter.spend(p, 1)).ok).toBe(false);
        now = START + 60_000;
        expect(await meter.spend(p, 1)).toEqual({ ok: true, remaining: 1 });
        expect(await meter.spend(p, 1)).toEqual({ ok: true, remaining: 0 });
        expect((await meter.spend(p, 1)).ok).toBe(false);
        expect(await meter.balance(p)).toEqual({ remaining: 0, refillsAt: START + 120_000 });
        await meter.close();
      }));

    it('spends a cost of several credits at once or not at all, and checks without spending at cost 0', (ctx) =>
      withStore(async (store, org) => {
        if (ledgerOf(store) === null) return ctx.skip();
        const meter = new CreditMeter(store, () => START, SETTINGS);
        const p = policy(org, { remaining: 10 });
        expect(await meter.spend(p, 4)).toMatchObject({ ok: true });
        expect(await meter.spend(p, 7)).toEqual({ ok: false, retryAfterMs: null });
        expect(await meter.spend(p, 6)).toMatchObject({ ok: true, remaining: 0 });
        expect((await meter.spend(p, 0)).ok).toBe(false);
        await meter.close();
        expect((await meter.balance(p)).remaining).toBe(0);
      }));

    it('gives back what an instance did not spend, on close, for other instances to spend', (ctx) =>
      withStore(async (store, org) => {
        if (ledgerOf(store) === null) return ctx.skip();
        const clock = () => START;
        const p = policy(org, { remaining: 40 });
        const first = new CreditMeter(store, clock, SETTINGS);
        expect((await first.spend(p, 1)).ok).toBe(true); // leases a block of 10
        await first.close();
        const second = new CreditMeter(store, clock, SETTINGS);
        let admitted = 0;
        while ((await second.spend(p, 1)).ok) admitted++;
        expect(admitted).toBe(39);
        await second.close();
      }));
  });
}
