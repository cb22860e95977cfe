import { createKeyward, type EventContext, type KeyEvent } from '@keyward/core';
import { delegatingStore, TEST_PEPPER, testClock } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore, type MongoKeyStoreOptions } from './mongo-store.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect } = useConnections('events');
const [, mongoose] = MONGOOSE_MAJORS[1];
const DAY = 86_400_000;
const BOB: EventContext = { actor: { type: 'user', id: 'user_bob' }, ip: '198.51.100.4', userAgent: 'ua/2' };

let connection: Connection;
beforeAll(async () => {
  connection = (await connect(mongoose)) as unknown as Connection;
});

function setUp(options: Partial<MongoKeyStoreOptions> = {}, collection = uniqueCollection()) {
  const clock = testClock();
  const store = new MongoKeyStore({ connection, collection, ...options });
  const seen: KeyEvent[] = [];
  const keyward = createKeyward({
    store,
    scopes: ['a:read', 'a:write'],
    publicScopes: ['a:read'],
    pepper: TEST_PEPPER,
    clock: clock.now,
    onEvent: (event) => void seen.push(event),
  });
  return { store, keyward, clock, seen, collection };
}

async function mutateEverything(
  keyward: ReturnType<typeof setUp>['keyward'],
  clock: ReturnType<typeof testClock>,
  org: string,
) {
  const { key } = await keyward.createKey(org, { name: 'Doc', type: 'secret' }, BOB);
  clock.advance(1000);
  await keyward.updateKey(org, key.id, { name: 'Doc 2', scopes: ['a:read'] }, BOB);
  clock.advance(1000);
  await keyward.updateKey(org, key.id, { disabled: true }, BOB);
  clock.advance(1000);
  await keyward.updateKey(org, key.id, { disabled: false }, BOB);
  clock.advance(1000);
  const rolled = await keyward.rollKey(org, key.id, {}, BOB);
  clock.advance(1000);
  await keyward.deleteKey(org, rolled.key.id, BOB);
  return { key, successor: rolled.key };
}

// A roll's two events share its instant: the old key's key.rolled is listed above the new key's key.created.
const EXPECTED_TYPES = [
  'key.deleted',
  'key.rolled',
  'key.created',
  'key.enabled',
  'key.disabled',
  'key.updated',
  'key.created',
];

describe('audit events on FerretDB through the service', () => {
  it('records exactly one event per mutation, with actor, address, user agent and changed fields', async () => {
    const { keyward, clock, seen } = setUp();
    const org = uniqueOrganization();
    const { key, successor } = await mutateEverything(keyward, clock, org);
    const { events } = await keyward.listEvents(org);
    expect(events.map((e) => e.type)).toEqual(EXPECTED_TYPES);
    expect(events.map((e) => e.keyId)).toEqual([
      successor.id,
      key.id,
      successor.id,
      ...Array(4).fill(key.id),
    ]);
    expect(events[1]).toMatchObject({ replacedBy: successor.id });
    expect(events[2]).toMatchObject({ rolledFrom: key.id });
    for (const e of events) {
      expect(e).toMatchObject({
        organizationId: org,
        actor: BOB.actor,
        ip: BOB.ip,
        userAgent: BOB.userAgent,
      });
    }
    expect(events[5]?.changes).toEqual(['name', 'scopes']);
    expect(seen.map((e) => e.id).reverse()).toEqual(events.map((e) => e.id));
    expect((await keyward.listEvents(uniqueOrganization(), { keyId: key.id })).events).toEqual([]);
  });

  it('records one key.imported per key of a bulk import, and still one after an import stopped between events and keys, then run again', async () => {
    const { store, keyward, clock } = setUp();
    const org = uniqueOrganization();
    const rows = Array.from({ length: 45 }, (_, i) => ({
      token: `legacy_token_number_${i}_${org}`,
      name: `Imported ${i}`,
      type: 'secret' as const,
    }));
    // An import that stops after writing its events and before its keys (the process dies there).
    const dying = createKeyward({
      store: delegatingStore(store, {
        insertMany: async (_keys, events) => {
          for (const event of events ?? []) if (event) await store.appendEvent(event);
          throw new Error('the process dies here');
        },
      }),
      scopes: ['a:read', 'a:write'],
      pepper: TEST_PEPPER,
      // The same clock as the other instance, whose retention sweep would otherwise judge these events old.
      clock: clock.now,
    });
    await expect(dying.importKeys(org, rows, BOB)).rejects.toThrow();
    expect((await keyward.listEvents(org, { limit: 100 })).events).toHaveLength(45);
    // Running it again: every key imported, and still exactly one event per key (plus nothing for the
    // duplicate row, nor for a third run).
    const results = await keyward.importKeys(org, [...rows, ...rows.slice(0, 1)], BOB);
    expect(results.map((r) => r.status)).toEqual([...Array(45).fill('imported'), 'exists']);
    await keyward.importKeys(org, rows, BOB);
    const { events } = await keyward.listEvents(org, { limit: 100 });
    expect(events.map((e) => e.type)).toEqual(Array(45).fill('key.imported'));
    const imported = results.flatMap((r) => (r.status === 'imported' ? [r.key.id] : []));
    expect(new Set(events.map((e) => e.keyId))).toEqual(new Set(imported));
    expect(events.every((e) => e.actor.id === 'user_bob')).toBe(true);
    expect(JSON.stringify(events)).not.toContain('legacy_token_number');
  });

  it('writes no event for a change that is refused', async () => {
    const { keyward, clock } = setUp();
    const org = uniqueOrganization();
    const { key } = await keyward.createKey(org, { name: 'Stays', type: 'secret' });
    clock.advance(1000);
    await keyward.rollKey(org, key.id);
    // Refused: a rolled key given more time, a second roll, another organization's delete.
    await expect(keyward.rollKey(org, key.id)).rejects.toThrow();
    await expect(keyward.deleteKey(uniqueOrganization(), key.id)).rejects.toThrow();
    await expect(keyward.updateKey(org, key.id, { expiresAt: null })).rejects.toThrow();
    expect((await keyward.listEvents(org)).events.map((e) => e.type)).toEqual([
      'key.rolled',
      'key.created',
      'key.created',
    ]);
  });
});

describe('key.used_after_roll on FerretDB', () => {
  it('is recorded at most once an hour per key, also when two instances see the use (injected clock)', async () => {
    const a = setUp();
    const org = uniqueOrganization();
    const { key, token } = await a.keyward.createKey(org, { name: 'Old', type: 'secret' });
    await a.keyward.rollKey(org, key.id, { gracePeriodSeconds: 86_400 });
    const b = setUp({}, a.collection);
    b.clock.set(a.clock.now());
    // Uses every 20 minutes for 2 hours, on both instances.
    for (let i = 0; i <= 6; i++) {
      for (const { keyward } of [a, b]) expect((await keyward.verify(token)).valid).toBe(true);
      a.clock.advance(20 * 60_000);
      b.clock.advance(20 * 60_000);
    }
    await Promise.all([a.keyward.flushUsage(), b.keyward.flushUsage()]);
    const { events } = await a.keyward.listEvents(org, { type: 'key.used_after_roll' });
    const hours = events.map((e) => Math.floor(e.at.getTime() / 3_600_000));
    expect(events).toHaveLength(3); // at 0, 60 and 120 minutes
    expect(new Set(hours).size).toBe(3);
    expect(events[0]).toMatchObject({
      keyId: key.id,
      keyName: 'Old',
      actor: { type: 'api_key', id: key.id },
    });
    await Promise.all([a.keyward.close(), b.keyward.close()]);
  });
});

describe('event retention on FerretDB (no TTL indexes)', () => {
  it('detects FerretDB, creates a plain expireAt index and sweeps old events on the injected clock', async () => {
    const { keyward, store, clock, collection } = setUp({ eventRetentionDays: 400 });
    expect(await store.isFerretDB()).toBe(true);
    const org = uniqueOrganization();
    await keyward.createKey(org, { name: 'Old', type: 'secret' });
    clock.advance(100 * DAY);
    await keyward.createKey(org, { name: 'Young', type: 'secret' });
    const indexes = await connection.db?.collection(`${collection}_events`).indexes();
    const expiry = indexes?.find((i) => i.name?.startsWith('expire_at'));
    expect(expiry).toMatchObject({ name: 'expire_at' });
    expect(expiry).not.toHaveProperty('expireAfterSeconds');
    clock.advance(300 * DAY - 1); // 400 days after the first event, less 1 ms
    expect((await keyward.maintainEvents()).swept).toBe(0);
    clock.advance(2);
    expect((await keyward.maintainEvents()).swept).toBe(1);
    expect((await keyward.listEvents(org)).events.map((e) => e.keyName)).toEqual(['Young']);
  });
});
