import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeywardOptions } from '../config/options.js';
import type { KeyEvent } from '../events/events.js';
import { createKeyward, type Keyward } from '../keyward.js';
import type { KeyStore } from '../store/store.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');
const DAY = 86_400_000;
const PEPPER = 'conformance-pepper-dormancy-not-secret';

/** Options of `describeDormancyScenarios`. */
export interface DormancyScenarioOptions {
  /** A fresh store (with `scanKeys`, `appendEvent`, `listEvents` and `recordUsage`). */
  createStore: () => KeyStore | Promise<KeyStore>;
  destroyStore?: (store: KeyStore) => void | Promise<void>;
}

/**
 * Dormant keys and roll history through the service on a real store (docs/reference.md §11, §7), with an
 * injected clock: `key.dormant_soon` 7 days before, the disable on the day, a use in between restarting the
 * clock, two instances sweeping at once writing one event each, and a roll's events on both keys.
 *
 * @example
 * describeDormancyScenarios('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });
 */
export function describeDormancyScenarios(name: string, options: DormancyScenarioOptions): void {
  describe(`dormant keys and roll history: ${name}`, () => {
    const cleanups: Array<() => unknown> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** One store, one clock and `n` service instances sharing them. */
    async function setup(n = 1, overrides: Partial<KeywardOptions> = {}) {
      const store = await options.createStore();
      cleanups.push(() => options.destroyStore?.(store));
      let now = START;
      const instances: Keyward[] = [];
      for (let i = 0; i < n; i++) {
        const keyward = createKeyward({
          store,
          scopes: ['read'],
          publicScopes: ['read'],
          pepper: PEPPER,
          clock: () => now,
          dormantAfterDays: 30,
          dormancySweepIntervalMs: false,
          events: { maintenanceIntervalMs: 3_600_000 },
          ...overrides,
        });
        cleanups.push(() => keyward.close());
        instances.push(keyward);
      }
      const org = `org_${randomBytes(6).toString('hex')}`;
      const events = async (keyId: string, type?: KeyEvent['type']) =>
        (await (instances[0] as Keyward).listEvents(org, { keyId, limit: 100, ...(type && { type }) }))
          .events;
      return {
        store,
        org,
        keyward: instances[0] as Keyward,
        instances,
        events,
        at: (days: number) => {
          now = START + days * DAY;
        },
      };
    }

    it('records key.dormant_soon on day n-7 once, and disables the key on day n with a system event', async () => {
      const { keyward, org, events, at } = await setup();
      const { key, token } = await keyward.createKey(org, { name: 'Idle', type: 'secret' });

      at(23 - 1 / 24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      expect(await events(key.id, 'key.dormant_soon')).toEqual([]);

      at(23);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [key.id], disabled: [] });
      at(24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      const soon = await events(key.id, 'key.dormant_soon');
      expect(soon).toHaveLength(1);
      expect(soon[0]).toMatchObject({ actor: { type: 'system' }, reason: 'dormant', keyName: 'Idle' });
      expect(JSON.stringify(soon)).not.toContain(token);

      at(30 - 1 / 24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [] });
      expect((await keyward.verify(token)).valid).toBe(true);

      at(30);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [key.id] });
      expect(await keyward.getKey(org, key.id)).toMatchObject({ disabled: true });
      expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
      const disabled = await events(key.id, 'key.disabled');
      expect(disabled).toHaveLength(1);
      expect(disabled[0]).toMatchObject({ actor: { type: 'system' }, reason: 'dormant' });

      at(31);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      expect(await events(key.id, 'key.disabled')).toHaveLength(1);
    });

    it('a use in between restarts the clock: no disable on day n, a new warning n-7 days after the use', async () => {
      const { keyward, org, events, at } = await setup();
      const { key, token } = await keyward.createKey(org, { name: 'Used', type: 'secret' });
      at(23);
      await keyward.sweepDormantKeys();
      at(25);
      expect((await keyward.verify(token)).valid).toBe(true);
      await keyward.flushUsage();

      at(30);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      at(25 + 23 - 1 / 24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      at(25 + 23);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [key.id], disabled: [] });
      expect(await events(key.id, 'key.dormant_soon')).toHaveLength(2);
      at(25 + 30 - 1 / 24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [] });
      at(25 + 30);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [key.id] });
    });

    it('two instances sweeping at once record one key.dormant_soon and one key.disabled per key', async () => {
      const { instances, keyward, org, events, at } = await setup(2);
      const keys = await Promise.all(
        ['A', 'B', 'C'].map((name) => keyward.createKey(org, { name, type: 'secret' })),
      );
      at(23);
      await Promise.all(instances.map((k) => k.sweepDormantKeys()));
      at(30);
      const sweeps = await Promise.all(instances.map((k) => k.sweepDormantKeys()));
      const disabled = sweeps.flatMap((s) => s.disabled).sort();
      expect(disabled).toEqual(keys.map((k) => k.key.id).sort());
      for (const { key } of keys) {
        expect(await events(key.id, 'key.dormant_soon')).toHaveLength(1);
        expect(await events(key.id, 'key.disabled')).toHaveLength(1);
        expect(await keyward.getKey(org, key.id)).toMatchObject({ disabled: true });
      }
    });

    it('a key enabled again after a dormant disable is not disabled by the next sweep', async () => {
      const { keyward, org, events, at } = await setup();
      const { key } = await keyward.createKey(org, { name: 'Back', type: 'secret' });
      at(23);
      await keyward.sweepDormantKeys();
      at(30);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [key.id] });
      at(31);
      await keyward.updateKey(org, key.id, { disabled: false }, { actor: { type: 'user', id: 'u_1' } });
      at(32);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [] });
      expect(await keyward.getKey(org, key.id)).toMatchObject({ disabled: false });
      expect((await events(key.id)).map((e) => e.type)).toEqual([
        'key.enabled',
        'key.disabled',
        'key.dormant_soon',
        'key.created',
      ]);
    });

    it('a policy for one type leaves the other type alone', async () => {
      const { keyward, org, at } = await setup(1, { dormantAfterDays: { secret: 30 } });
      const secret = await keyward.createKey(org, { name: 'S', type: 'secret' });
      const pub = await keyward.createKey(org, { name: 'P', type: 'public' });
      at(400);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [secret.key.id] });
      at(407);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ disabled: [secret.key.id] });
      expect(await keyward.getKey(org, pub.key.id)).toMatchObject({ disabled: false });
    });

    it('a key found dormant without its notice (no sweep on day n-7) gets it first, and is disabled 7 days later', async () => {
      const { keyward, org, events, at } = await setup();
      const { key } = await keyward.createKey(org, { name: 'Late', type: 'secret' });
      at(45);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [key.id], disabled: [] });
      at(52 - 1 / 24);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [] });
      expect(await keyward.getKey(org, key.id)).toMatchObject({ disabled: false });
      at(52);
      expect(await keyward.sweepDormantKeys()).toMatchObject({ warned: [], disabled: [key.id] });
      expect((await events(key.id)).map((e) => e.type)).toEqual([
        'key.disabled',
        'key.dormant_soon',
        'key.created',
      ]);
    });

    it("scanKeys pages through every organization's enabled, live keys by id, with their last use", async () => {
      const { store, keyward, org, at } = await setup();
      const other = `${org}_b`;
      const made: string[] = [];
      for (const [i, organization] of [org, other, org, other, org, other, org].entries()) {
        const { key } = await keyward.createKey(organization, {
          name: `K${i}`,
          type: i % 3 === 0 ? 'public' : 'secret',
        });
        made.push(key.id);
      }
      const { key: disabled } = await keyward.createKey(org, { name: 'Off', type: 'secret' });
      await keyward.updateKey(org, disabled.id, { disabled: true });
      const { key: deleted } = await keyward.createKey(other, { name: 'Gone', type: 'secret' });
      await keyward.deleteKey(other, deleted.id);
      const { key: rolled, token } = await keyward.createKey(org, { name: 'Old', type: 'secret' });
      const { key: successor } = await keyward.rollKey(org, rolled.id);
      made.push(successor.id);
      at(2);
      const { key: used } = await keyward.createKey(org, { name: 'Used', type: 'secret' });
      made.push(used.id);
      at(3);
      expect((await keyward.verify(token)).valid).toBe(false); // the rolled key, past its grace period
      const usedToken = (await keyward.rollKey(org, used.id, { gracePeriodSeconds: 0 })).token;
      made.push(((await keyward.getKey(org, used.id))?.replacedBy ?? '') as string);
      made.splice(made.indexOf(used.id), 1);
      expect((await keyward.verify(usedToken)).valid).toBe(true);
      await keyward.flushUsage();

      expect(store.scanKeys).toBeTypeOf('function');
      const scan = (store.scanKeys as NonNullable<KeyStore['scanKeys']>).bind(store);
      const seen: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await scan({ limit: 3, ...(after !== undefined && { after }) });
        seen.push(...page.map((k) => k.id));
        if (page.length < 3) break;
        after = page.at(-1)?.id;
      }
      // Other tests' keys may share the store: only this test's are judged.
      const mine = seen.filter(
        (id) => made.includes(id) || [disabled.id, deleted.id, rolled.id].includes(id),
      );
      expect(mine).toEqual([...made].sort());
      expect(seen).toEqual([...seen].sort());
      const publics = await scan({ limit: 100, type: 'public' });
      expect(publics.length).toBeGreaterThan(0);
      expect(publics.every((k) => k.type === 'public')).toBe(true);
      const last = (await scan({ limit: 100 })).find((k) => k.id === made.at(-1));
      expect(last?.lastUsedAt).toEqual(new Date(START + 3 * DAY));
    });

    it('a roll records key.created with rolledFrom on the new key, and key.rolled names the new key', async () => {
      const { keyward, org, events, at } = await setup();
      const { key: old } = await keyward.createKey(org, { name: 'Rolled', type: 'secret' });
      at(1);
      const actor = { type: 'user' as const, id: 'u_roll' };
      const { key: next } = await keyward.rollKey(org, old.id, { gracePeriodSeconds: 60 }, { actor });
      const created = await events(next.id, 'key.created');
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ keyId: next.id, rolledFrom: old.id, actor, keyName: 'Rolled' });
      const rolled = await events(old.id, 'key.rolled');
      expect(rolled).toHaveLength(1);
      expect(rolled[0]).toMatchObject({ keyId: old.id, replacedBy: next.id, actor });
      // One instant, and always in this order: the roll above the new key's creation.
      const all = (await keyward.listEvents(org)).events;
      expect(all.map((e) => [e.type, e.keyId])).toEqual([
        ['key.rolled', old.id],
        ['key.created', next.id],
        ['key.created', old.id],
      ]);
      expect(all[0]?.at).toEqual(all[1]?.at);
    });
  });
}
