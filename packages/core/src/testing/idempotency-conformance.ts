import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import type { IdempotencyRecord, KeyStore } from '../store/store.js';

type WithStore = (run: (store: KeyStore, org: string) => Promise<void>) => Promise<void>;

const NOW = new Date('2030-01-01T00:00:00.000Z');
const PEPPER = 'conformance-pepper-idempotency-not-secret';

function record(id: string, fields: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    id,
    fingerprint: 'f1',
    claim: randomBytes(8).toString('hex'),
    response: null,
    lockedUntil: new Date(NOW.getTime() + 60_000),
    expiresAt: new Date(NOW.getTime() + 86_400_000),
    ...fields,
  };
}

/**
 * Conformance of the optional extras `claimIdempotency`, `completeIdempotency` and `releaseIdempotency`
 * (`Idempotency-Key`, docs/reference.md §11), skipped for a store without them. Part of `runKeyStoreConformance`.
 */
export function describeIdempotencyConformance(withStore: WithStore): void {
  const supported = (store: KeyStore) =>
    store.claimIdempotency && store.completeIdempotency && store.releaseIdempotency ? store : null;

  describe('Idempotency-Key records', () => {
    it('elects exactly one of 20 concurrent claims of one id; the others get the live record', (ctx) =>
      withStore(async (s, org) => {
        const store = supported(s);
        if (!store?.claimIdempotency)
          return ctx.skip(
            'the store has no idempotency records (claimIdempotency, completeIdempotency, releaseIdempotency)',
          );
        const id = `idem_${org}`;
        const claims = Array.from({ length: 20 }, () => record(id));
        const answers = await Promise.all(claims.map((c) => store.claimIdempotency?.(c, NOW)));
        const winners = answers.filter((a) => a === null);
        expect(winners).toHaveLength(1);
        const winner = claims[answers.indexOf(null)] as IdempotencyRecord;
        for (const other of answers.filter((a) => a !== null)) {
          expect(other).toMatchObject({ id, fingerprint: 'f1', claim: winner.claim, response: null });
        }
      }));

    it('completes and releases only under the claim that holds the record', (ctx) =>
      withStore(async (s, org) => {
        const store = supported(s);
        if (!store?.claimIdempotency || !store.completeIdempotency || !store.releaseIdempotency)
          return ctx.skip(
            'the store has no idempotency records (claimIdempotency, completeIdempotency, releaseIdempotency)',
          );
        const id = `idem_${org}`;
        const mine = record(id);
        expect(await store.claimIdempotency(mine, NOW)).toBeNull();
        await store.completeIdempotency(id, 'not-mine', 'forged');
        await store.releaseIdempotency(id, 'not-mine');
        expect(await store.claimIdempotency(record(id), NOW)).toMatchObject({
          claim: mine.claim,
          response: null,
        });
        await store.completeIdempotency(id, mine.claim, 'sealed');
        expect(await store.claimIdempotency(record(id), NOW)).toMatchObject({ response: 'sealed' });

        const other = `idem2_${org}`;
        const first = record(other);
        expect(await store.claimIdempotency(first, NOW)).toBeNull();
        await store.releaseIdempotency(other, first.claim);
        expect(await store.claimIdempotency(record(other), NOW)).toBeNull();
      }));

    it('replaces an expired record, and a claim in progress past its lock, but not a live one', (ctx) =>
      withStore(async (s, org) => {
        const store = supported(s);
        if (!store?.claimIdempotency || !store.completeIdempotency)
          return ctx.skip(
            'the store has no idempotency records (claimIdempotency, completeIdempotency, releaseIdempotency)',
          );
        const later = (ms: number) => new Date(NOW.getTime() + ms);
        const done = record(`idem_done_${org}`);
        expect(await store.claimIdempotency(done, NOW)).toBeNull();
        await store.completeIdempotency(done.id, done.claim, 'sealed');
        // Answered: kept past the lock, until it expires.
        expect(await store.claimIdempotency(record(done.id), later(3_600_000))).toMatchObject({
          response: 'sealed',
        });
        expect(await store.claimIdempotency(record(done.id), later(86_400_000))).toBeNull();

        const stuck = record(`idem_stuck_${org}`);
        expect(await store.claimIdempotency(stuck, NOW)).toBeNull();
        expect(await store.claimIdempotency(record(stuck.id), later(59_999))).toMatchObject({
          claim: stuck.claim,
        });
        const takeover = record(stuck.id, { lockedUntil: later(120_000) });
        expect(await store.claimIdempotency(takeover, later(60_000))).toBeNull();
        // The old holder can no longer complete it.
        await store.completeIdempotency(stuck.id, stuck.claim, 'late');
        expect(await store.claimIdempotency(record(stuck.id), later(60_001))).toMatchObject({
          claim: takeover.claim,
          response: null,
        });
      }));

    it('through the service: 20 concurrent creates with one key make one key; another body is 422', (ctx) =>
      withStore(async (s, org) => {
        const store = supported(s);
        if (!store)
          return ctx.skip(
            'the store has no idempotency records (claimIdempotency, completeIdempotency, releaseIdempotency)',
          );
        const keyward = createKeyward({ store, scopes: ['a:read'], pepper: PEPPER, cache: false });
        try {
          const body = { name: 'CI', type: 'secret' as const };
          const create = () =>
            keyward.idempotent(org, 'retry-1', { route: 'POST /', body }, async () => {
              const { key, token } = await keyward.createKey(org, body);
              return { id: key.id, token };
            });
          const answers = await Promise.all(Array.from({ length: 20 }, create));
          expect(new Set(answers.map((a) => a.id)).size).toBe(1);
          expect(new Set(answers.map((a) => a.token)).size).toBe(1);
          expect(await store.list(org)).toHaveLength(1);
          await expect(
            keyward.idempotent(org, 'retry-1', { route: 'POST /', body: { ...body, name: 'Other' } }, create),
          ).rejects.toMatchObject({ code: 'idempotency_key_reused', status: 422 });
          expect(await store.list(org)).toHaveLength(1);
        } finally {
          await keyward.close();
        }
      }));
  });
}
