import { format } from 'node:util';
import createDebug from 'debug';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROLL_USE_INTERVAL_MS } from '../background/roll-use.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { testKeyward } from '../testing/fixtures.js';
import type { EventContext, KeyEvent } from './events.js';

const ORG = 'org_events';
const ALICE: EventContext = {
  actor: { type: 'user', id: 'user_alice' },
  ip: '203.0.113.7',
  userAgent: 'events-test/1.0',
};

/** Every line the `keyward:*` loggers write while a test runs. */
const logs: string[] = [];
const originalLog = createDebug.log;
beforeEach(() => {
  logs.length = 0;
  createDebug.enable('keyward:*');
  createDebug.log = (...args: unknown[]) => logs.push(format(...args));
});
afterEach(() => {
  createDebug.disable();
  createDebug.log = originalLog;
});

function setUp(options: Parameters<typeof testKeyward>[0] = {}) {
  const seen: KeyEvent[] = [];
  const fixture = testKeyward({ onEvent: (event) => void seen.push(event), ...options });
  const all = async (org = ORG) => (await fixture.keyward.listEvents(org, { limit: 100 })).events;
  return { ...fixture, seen, all };
}

describe('audit events of the service (docs/reference.md §7)', () => {
  it('records exactly one event per mutation with type, actor, key id and name, and changed fields', async () => {
    const { keyward, all, seen, clock } = setUp();
    const { key } = await keyward.createKey(ORG, { name: 'CI', type: 'secret' }, ALICE);
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { name: 'CI 2', scopes: ['snippets:read'] }, ALICE);
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { disabled: true }, ALICE);
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { disabled: false }, ALICE);
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { name: 'CI 3', disabled: true }, ALICE);
    clock.advance(1000);
    await keyward.updateKey(ORG, key.id, { disabled: false }, ALICE);
    clock.advance(1000);
    const rolled = await keyward.rollKey(ORG, key.id, {}, ALICE);
    clock.advance(1000);
    await keyward.deleteKey(ORG, rolled.key.id, ALICE);
    // A roll's two events share its instant: the old key's key.rolled is listed above the new key's key.created.
    const events = await all();
    const expected = [
      { type: 'key.deleted', keyId: rolled.key.id, keyName: 'CI 3' },
      { type: 'key.rolled', keyId: key.id, keyName: 'CI 3', replacedBy: rolled.key.id },
      { type: 'key.created', keyId: rolled.key.id, keyName: 'CI 3', rolledFrom: key.id },
      { type: 'key.enabled', keyId: key.id, keyName: 'CI 3' },
      { type: 'key.updated', keyId: key.id, keyName: 'CI 3', changes: ['name', 'disabled'] },
      { type: 'key.enabled', keyId: key.id, keyName: 'CI 2' },
      { type: 'key.disabled', keyId: key.id, keyName: 'CI 2' },
      { type: 'key.updated', keyId: key.id, keyName: 'CI 2', changes: ['name', 'scopes'] },
      { type: 'key.created', keyId: key.id, keyName: 'CI' },
    ];
    expect(events).toEqual(
      expected.map((e) => ({
        id: expect.stringMatching(/^evt_[0-9A-Za-z]{22}$/),
        organizationId: ORG,
        at: expect.any(Date),
        actor: { type: 'user', id: 'user_alice' },
        ip: '203.0.113.7',
        userAgent: 'events-test/1.0',
        ...e,
      })),
    );
    for (const e of events) if (e.type !== 'key.updated') expect(e).not.toHaveProperty('changes');
    // onEvent saw the same events, in the order they happened.
    expect(seen.map((e) => e.id)).toEqual(events.map((e) => e.id).reverse());
  });

  it('names the system as actor of provisioning and of calls without a context', async () => {
    const { keyward, all, clock } = setUp();
    const { key } = await keyward.provisionOrganization(ORG);
    await keyward.provisionOrganization(ORG); // idempotent: no second event
    clock.advance(1000);
    const { key: other } = await keyward.createKey(ORG, { name: 'Script', type: 'public' });
    const events = await all();
    expect(events.map((e) => [e.type, e.keyId, e.keyName, e.actor])).toEqual([
      ['key.created', other.id, 'Script', { type: 'system', id: 'keyward' }],
      ['key.created', key?.id, 'Default API Key', { type: 'system', id: 'keyward' }],
    ]);
    expect(events[0]).not.toHaveProperty('ip');
  });

  it('records nothing for a PATCH that changes nothing, a refused change or a failed lookup', async () => {
    const { keyward, all, clock } = setUp();
    const { key } = await keyward.createKey(ORG, { name: 'Same', type: 'secret' });
    clock.advance(1000);
    const before = await keyward.getKey(ORG, key.id);
    await keyward.updateKey(ORG, key.id, { name: 'Same', disabled: false, scopes: key.scopes });
    await keyward.updateKey(ORG, key.id, {});
    expect((await keyward.getKey(ORG, key.id))?.updatedAt).toEqual(before?.updatedAt);
    await expect(keyward.updateKey(ORG, key.id, { name: '' })).rejects.toThrow();
    await expect(keyward.deleteKey('org_other', key.id)).rejects.toThrow();
    await keyward.updateKey(ORG, key.id, { disabled: true });
    await expect(keyward.rollKey(ORG, key.id)).rejects.toThrow(); // a disabled key cannot be rolled
    expect((await all()).map((e) => e.type)).toEqual(['key.disabled', 'key.created']);
    expect(await all('org_other')).toEqual([]);
  });

  it('calls onEvent once the change is in the store, with a copy the hook cannot use to change the log', async () => {
    const store = new MemoryKeyStore();
    const states: Array<[string, string | null]> = [];
    const { keyward, all } = setUp({
      store,
      onEvent: async (event) => {
        const key = await store.findById(ORG, event.keyId);
        states.push([event.type, key ? key.name : null]);
        event.keyName = 'tampered';
      },
    });
    const { key } = await keyward.createKey(ORG, { name: 'Durable', type: 'secret' });
    await keyward.updateKey(ORG, key.id, { name: 'Renamed' });
    await keyward.deleteKey(ORG, key.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(states).toEqual([
      ['key.created', 'Durable'],
      ['key.updated', 'Renamed'],
      ['key.deleted', null],
    ]);
    expect((await all()).map((e) => e.keyName).sort()).toEqual(['Durable', 'Renamed', 'Renamed']);
  });

  it('never fails a change when onEvent throws or rejects, and logs only the event type and id', async () => {
    const throwing = setUp({
      onEvent: () => {
        throw new Error('mail server down');
      },
    });
    await expect(throwing.keyward.createKey(ORG, { name: 'A', type: 'secret' })).resolves.toBeTruthy();
    const rejecting = setUp({ onEvent: () => Promise.reject(new Error('webhook 500')) });
    const { key } = await rejecting.keyward.createKey(ORG, { name: 'B', type: 'secret' });
    rejecting.clock.advance(1000);
    await rejecting.keyward.deleteKey(ORG, key.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs.filter((l) => l.includes('onEvent failed'))).toHaveLength(3);
    expect((await rejecting.all()).map((e) => e.type)).toEqual(['key.deleted', 'key.created']);
  });

  it('never puts a token, hash or pepper in an event, the onEvent argument or a log line (canary)', async () => {
    const pepper = 'CANARY-pepper-0123456789abcdef';
    const store = new MemoryKeyStore();
    const { keyward, seen, all, clock } = setUp({ pepper, store });
    const secrets: string[] = [pepper];
    const { key, token } = await keyward.createKey(ORG, { name: 'Canary', type: 'secret' }, ALICE);
    const pub = await keyward.createKey(ORG, { name: 'Public', type: 'public' }, ALICE);
    secrets.push(token, pub.token);
    await keyward.updateKey(ORG, key.id, { name: 'Canary 2' }, ALICE);
    const rolled = await keyward.rollKey(ORG, key.id, {}, ALICE);
    secrets.push(rolled.token);
    await keyward.verify(token); // the rolled key in its grace period
    await keyward.flushUsage();
    clock.advance(1000);
    await keyward.deleteKey(ORG, rolled.key.id, ALICE);
    for (const id of [key.id, rolled.key.id, pub.key.id]) {
      const stored = await store.findByHash((await store.list(ORG)).find((k) => k.id === id)?.hash ?? '');
      if (stored) secrets.push(stored.hash);
    }
    const everything = JSON.stringify([await all(), seen]) + logs.join('\n');
    expect(seen.length).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });
});

describe('key.used_after_roll', () => {
  it('is noted off the request path at most once an hour per key (injected clock)', async () => {
    const { keyward, all, clock } = setUp();
    const { key, token } = await keyward.createKey(ORG, { name: 'Old', type: 'secret' });
    await keyward.rollKey(ORG, key.id, { gracePeriodSeconds: 7 * 86_400 }, ALICE);
    const uses = async () => (await all()).filter((e) => e.type === 'key.used_after_roll');
    // Every 10 minutes for 3 hours: the verifier notes uses at most once a minute, the recorder once an hour.
    for (let i = 0; i <= 18; i++) {
      expect((await keyward.verify(token)).valid).toBe(true);
      clock.advance(10 * 60_000);
    }
    await keyward.flushUsage();
    const noted = await uses();
    expect(noted).toHaveLength(4); // at 0, 60, 120 and 180 minutes
    const times = noted.map((e) => e.at.getTime()).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(ROLL_USE_INTERVAL_MS);
    }
    expect(noted[0]).toMatchObject({ keyId: key.id, keyName: 'Old', actor: { type: 'api_key', id: key.id } });
  });

  it('is not noted for a key that was never rolled, nor twice by two instances in one hour', async () => {
    const store = new MemoryKeyStore();
    const a = setUp({ store });
    const { key, token } = await a.keyward.createKey(ORG, { name: 'Plain', type: 'secret' });
    await a.keyward.verify(token);
    await a.keyward.flushUsage();
    expect((await a.all()).map((e) => e.type)).toEqual(['key.created']);
    await a.keyward.rollKey(ORG, key.id);
    const b = testKeyward({ store, clock: a.clock.now });
    await a.keyward.verify(token);
    await b.keyward.verify(token);
    await Promise.all([a.keyward.flushUsage(), b.keyward.flushUsage()]);
    expect((await a.all()).filter((e) => e.type === 'key.used_after_roll')).toHaveLength(1);
  });
});

describe('one event per change even when the store fails between the writes (memory store)', () => {
  for (const step of ['beforeAppend', 'beforeClear'] as const) {
    it(`matches changes and events one to one after recovery (${step})`, async () => {
      let failing = true;
      const store = new MemoryKeyStore({
        faults: {
          [step]: () => {
            if (failing) throw new Error('injected');
          },
        },
      });
      const { keyward, all, seen, clock } = setUp({ store });
      const { key } = await keyward.createKey(ORG, { name: 'F', type: 'secret' }, ALICE);
      clock.advance(1000);
      await keyward.updateKey(ORG, key.id, { scopes: ['snippets:read'] }, ALICE);
      clock.advance(1000);
      const rolled = await keyward.rollKey(ORG, key.id, {}, ALICE);
      clock.advance(1000);
      await keyward.deleteKey(ORG, rolled.key.id, ALICE);
      expect((await all()).length).toBe(step === 'beforeAppend' ? 0 : 5);
      // A new instance (the process restarted) recovers what the first left in the outboxes.
      failing = false;
      const restarted = testKeyward({ store });
      expect((await restarted.keyward.maintainEvents()).delivered).toBe(5);
      const events = await all();
      expect(events.map((e) => [e.type, e.keyId]).sort()).toEqual(
        [
          ['key.deleted', rolled.key.id],
          ['key.created', rolled.key.id],
          ['key.rolled', key.id],
          ['key.updated', key.id],
          ['key.created', key.id],
        ].sort(),
      );
      expect(new Set(events.map((e) => e.id)).size).toBe(5);
      // The changes all happened: the writes succeeded before the event write failed.
      expect(await keyward.getKey(ORG, rolled.key.id)).toBeNull();
      expect(seen).toHaveLength(5);
    });
  }
});

describe('expiringKeys', () => {
  it('lists keys with now < expiresAt <= now + within, soonest first, and never deleted or expired ones', async () => {
    const { keyward, clock } = setUp();
    const now = clock.now();
    const at = (ms: number) => new Date(now + ms);
    const day = 86_400_000;
    const { key: boundary } = await keyward.createKey(ORG, {
      name: 'Edge',
      type: 'secret',
      expiresAt: at(7 * day),
    });
    const { key: soon } = await keyward.createKey(ORG, { name: 'Soon', type: 'secret', expiresAt: at(1000) });
    const { key: gone } = await keyward.createKey(ORG, { name: 'Gone', type: 'secret', expiresAt: at(day) });
    await keyward.createKey(ORG, { name: 'Later', type: 'secret', expiresAt: at(7 * day + 1) });
    await keyward.createKey(ORG, { name: 'Never', type: 'secret' });
    const { key: other } = await keyward.createKey('org_b', {
      name: 'B',
      type: 'secret',
      expiresAt: at(day),
    });
    await keyward.deleteKey(ORG, gone.id);
    const ids = async (query: Parameters<typeof keyward.expiringKeys>[0]) =>
      (await keyward.expiringKeys(query)).map((k) => k.id);
    expect(await ids({ within: 7 * day, organizationId: ORG })).toEqual([soon.id, boundary.id]);
    expect(await ids({ within: 7 * day })).toEqual([soon.id, other.id, boundary.id]);
    clock.advance(1000); // `soon` expires now: already expired is not expiring; `boundary` is the edge again
    expect(await ids({ within: 7 * day - 1000, organizationId: ORG })).toEqual([boundary.id]);
    expect(await ids({ within: 7 * day - 1001, organizationId: ORG })).toEqual([]);
    await expect(keyward.expiringKeys({ within: -1 })).rejects.toThrow(TypeError);
  });
});
