import { describe, expect, it } from 'vitest';
import { buildKeyEvent, type KeyEvent, type KeyEventType } from '../events/events.js';
import type { StoredKey } from '../shared/types.js';
import type { EventStoreOptions } from '../store/event-log.js';
import type { KeyStore } from '../store/store.js';

/** What the event conformance suite needs: a fresh store built with the given event options. */
export interface EventConformanceOptions {
  /** A fresh, empty store for one test, built with `options` (retention, fault seams). */
  createEventStore: (options: EventStoreOptions) => Promise<KeyStore> | KeyStore;
  /** Called after each test with the store it used. */
  destroyStore?: (store: KeyStore) => Promise<void> | void;
  /** Makes a stored key for `organizationId` (the suite's `makeStoredKey`). */
  makeKey: (fields: Partial<StoredKey>) => StoredKey;
}

let orgs = 0;
const DAY = 86_400_000;

/** An event of `type` for `key` at `at` (ms), by a user. */
function eventFor(key: StoredKey, type: KeyEventType, at: number, changes?: string[]): KeyEvent {
  return buildKeyEvent(
    type,
    key,
    new Date(at),
    { actor: { type: 'user', id: 'user_1' }, ip: '203.0.113.9', userAgent: 'conformance/1' },
    changes,
  );
}

/**
 * The event part of the store conformance suite (docs/reference.md §7): events written with their change, listed
 * newest first per organization, appended idempotently, moved from outboxes after a failure between the
 * two writes (both orders), swept by retention; and `listExpiring`. Run by `runKeyStoreConformance` when
 * `createEventStore` is given.
 *
 * @example
 * runEventConformance('MemoryKeyStore', { createEventStore: (o) => new MemoryKeyStore(o), makeKey: makeStoredKey });
 */
export function runEventConformance(name: string, options: EventConformanceOptions): void {
  async function withStore(
    storeOptions: EventStoreOptions,
    run: (store: KeyStore, org: string) => Promise<void>,
  ): Promise<void> {
    const store = await options.createEventStore(storeOptions);
    try {
      await run(store, `org_events_${Date.now()}_${++orgs}`);
    } finally {
      await options.destroyStore?.(store);
    }
  }
  const list = (store: KeyStore, org: string, limit = 100) =>
    (store.listEvents as NonNullable<KeyStore['listEvents']>).call(store, org, { limit });

  describe(`KeyStore events conformance: ${name}`, () => {
    it('lists an event written with an insert and one written with an update, every field intact', () =>
      withStore({}, async (store, org) => {
        const key = options.makeKey({ organizationId: org });
        const created = eventFor(key, 'key.created', Date.parse('2030-01-01T00:00:00.000Z'));
        await store.insert(key, created);
        const updated = eventFor(key, 'key.updated', Date.parse('2030-01-01T00:00:01.000Z'), ['name']);
        await store.update(org, key.id, { name: 'Renamed' }, { event: updated });
        expect(await list(store, org)).toEqual([updated, created]);
      }));

    it('writes no event for an update that matched nothing or an insert that was refused', () =>
      withStore({}, async (store, org) => {
        const key = options.makeKey({ organizationId: org });
        await store.insert(key);
        const stale = eventFor(key, 'key.updated', Date.now(), ['name']);
        expect(await store.update(org, key.id, { name: 'X' }, { version: 7, event: stale })).toBeNull();
        const duplicate = eventFor(key, 'key.created', Date.now());
        await expect(store.insert({ ...key }, duplicate)).rejects.toThrow();
        expect(await list(store, org)).toEqual([]);
      }));

    it('pages newest first with ties broken by id, filters by key and type, and keeps organizations apart', () =>
      withStore({}, async (store, org) => {
        const a = options.makeKey({ organizationId: org });
        const b = options.makeKey({ organizationId: org });
        const other = options.makeKey({ organizationId: `${org}_other` });
        const t = Date.parse('2030-02-01T00:00:00.000Z');
        const events = [
          eventFor(a, 'key.created', t),
          eventFor(b, 'key.created', t),
          eventFor(a, 'key.disabled', t + 1000),
          eventFor(b, 'key.deleted', t + 2000),
        ];
        for (const e of events) await store.appendEvent?.(e);
        await store.appendEvent?.(eventFor(other, 'key.created', t + 3000));
        const expected = [...events].sort(
          (x, y) => y.at.getTime() - x.at.getTime() || (x.id < y.id ? 1 : -1),
        );
        expect((await list(store, org)).map((e) => e.id)).toEqual(expected.map((e) => e.id));
        const first = await store.listEvents?.(org, { limit: 2 });
        const last = first?.at(-1) as KeyEvent;
        const second = await store.listEvents?.(org, { limit: 2, after: { at: last.at, id: last.id } });
        expect([...(first ?? []), ...(second ?? [])].map((e) => e.id)).toEqual(expected.map((e) => e.id));
        expect((await store.listEvents?.(org, { limit: 10, keyId: a.id }))?.map((e) => e.type)).toEqual([
          'key.disabled',
          'key.created',
        ]);
        expect(
          (await store.listEvents?.(org, { limit: 10, type: 'key.deleted' }))?.map((e) => e.keyId),
        ).toEqual([b.id]);
        expect(await store.listEvents?.(org, { limit: 10, keyId: other.id })).toEqual([]);
      }));

    it('keeps one event when the same id is appended twice', () =>
      withStore({}, async (store, org) => {
        const key = options.makeKey({ organizationId: org });
        const event = eventFor(key, 'key.used_after_roll', Date.now());
        await store.appendEvent?.(event);
        await store.appendEvent?.(event);
        expect(await list(store, org)).toEqual([event]);
      }));

    for (const step of ['beforeAppend', 'beforeClear'] as const) {
      it(`keeps change and event one to one when the event write fails ${step === 'beforeAppend' ? 'before' : 'after'} the log write (${step})`, async () => {
        let failing = true;
        const fail = () => {
          if (failing) throw new Error(`injected failure ${step}`);
        };
        await withStore({ faults: { [step]: fail } }, async (store, org) => {
          const key = options.makeKey({ organizationId: org });
          const created = eventFor(key, 'key.created', Date.parse('2030-03-01T00:00:00.000Z'));
          const renamed = eventFor(key, 'key.updated', Date.parse('2030-03-01T00:00:01.000Z'), ['name']);
          // The key write succeeds: the change happened, so its event must follow.
          await store.insert(key, created);
          // beforeAppend: not in the log yet; beforeClear: in the log, its delivery not finished.
          expect(await list(store, org)).toEqual(step === 'beforeAppend' ? [] : [created]);
          // Recovery while still failing loses nothing and adds nothing.
          await store.deliverEvents?.().catch(() => 0);
          expect(await list(store, org)).toEqual(step === 'beforeAppend' ? [] : [created]);
          failing = false;
          await store.deliverEvents?.();
          expect(await list(store, org)).toEqual([created]);
          failing = true;
          expect((await store.update(org, key.id, { name: 'After' }, { event: renamed }))?.name).toBe(
            'After',
          );
          expect(await list(store, org)).toEqual(step === 'beforeAppend' ? [created] : [renamed, created]);
          failing = false;
          await store.deliverEvents?.();
          expect(await list(store, org)).toEqual([renamed, created]);
          // Everything was delivered: nothing is left to recover.
          expect(await store.deliverEvents?.()).toBe(0);
          expect((await store.findById(org, key.id))?.name).toBe('After');
        });
      });
    }

    it('sweeps events older than the retention and keeps younger ones', () =>
      withStore({ eventRetentionDays: 30 }, async (store, org) => {
        const key = options.makeKey({ organizationId: org });
        const t = Date.parse('2030-04-01T00:00:00.000Z');
        const old = eventFor(key, 'key.created', t);
        const young = eventFor(key, 'key.updated', t + 10 * DAY, ['name']);
        await store.appendEvent?.(old);
        await store.appendEvent?.(young);
        expect(await store.sweepEvents?.(new Date(t + 30 * DAY - 1))).toBe(0);
        expect(await store.sweepEvents?.(new Date(t + 31 * DAY))).toBe(1);
        expect(await list(store, org)).toEqual([young]);
      }));

    it('lists expiring keys in (from, until], soonest first, without deleted, rolled or other organizations', () =>
      withStore({}, async (store, org) => {
        const now = Date.parse('2030-05-01T00:00:00.000Z');
        const at = (ms: number) => new Date(now + ms);
        const boundary = options.makeKey({ organizationId: org, expiresAt: at(7 * DAY) });
        const soon = options.makeKey({ organizationId: org, expiresAt: at(DAY) });
        const expired = options.makeKey({ organizationId: org, expiresAt: at(0) });
        const later = options.makeKey({ organizationId: org, expiresAt: at(7 * DAY + 1) });
        const never = options.makeKey({ organizationId: org, expiresAt: null });
        const deleted = options.makeKey({ organizationId: org, expiresAt: at(DAY), deletedAt: at(-1) });
        const rolled = options.makeKey({ organizationId: org, expiresAt: at(DAY), rolledAt: at(-1) });
        const foreign = options.makeKey({ organizationId: `${org}_other`, expiresAt: at(DAY) });
        for (const k of [boundary, soon, expired, later, never, deleted, rolled, foreign])
          await store.insert(k);
        const query = { from: at(0), until: at(7 * DAY), organizationId: org, limit: 100 };
        expect((await store.listExpiring?.(query))?.map((k) => k.id)).toEqual([soon.id, boundary.id]);
        const all = await store.listExpiring?.({ from: at(0), until: at(7 * DAY), limit: 100 });
        expect(all?.map((k) => k.id)).toEqual(expect.arrayContaining([soon.id, boundary.id, foreign.id]));
        expect(await store.listExpiring?.({ ...query, limit: 1 })).toHaveLength(1);
      }));
  });
}
