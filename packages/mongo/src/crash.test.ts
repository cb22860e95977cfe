import { setTimeout as delay } from 'node:timers/promises';
import { createKeyward, KeyStoreUnavailableError } from '@keyward/core';
import { buildKeyEvent, createTokenHasher } from '@keyward/core/store';
import { makeStoredKey, TEST_PEPPER } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { pollUntil, uniqueCollection, uniqueOrganization } from './test-helpers.js';
import type { WriteStep } from './write-path.js';

const { connect } = useConnections('crash');
const [, mongoose] = MONGOOSE_MAJORS[1];
// The stopped writer's lease: short, so that recovery after a crash is quick to see, but long enough for a
// whole guarded write (five round trips) on a loaded 2-core machine: at 300 ms a set-up insert lost its
// lease under CI-like load. The writer that carries on waits for it to expire; its own lease is patient.
const LEASE_MS = 1_000;
const STEPS: WriteStep[] = ['leased', 'recorded', 'written', 'event-written', 'announced'];

let connectionA: Connection;
let connectionB: Connection;
beforeAll(async () => {
  connectionA = (await connect(mongoose)) as unknown as Connection;
  connectionB = (await connect(mongoose)) as unknown as Connection;
});

/**
 * Instance A stops (as a crashed process would: no further step, no clean-up) after `step` of its next
 * guarded write; instance B, on its own connection, carries on. A's short lease: B waits at most that long.
 */
function setUp(step: WriteStep) {
  const collection = uniqueCollection();
  let armed = true;
  const a = new MongoKeyStore({
    connection: connectionA,
    collection,
    leaseMs: LEASE_MS,
    faults: {
      crash: (at) => {
        if (armed && at === step) {
          armed = false;
          throw new Error(`writer stopped after ${at}`);
        }
      },
    },
  });
  const b = new MongoKeyStore({ connection: connectionB, collection, ...PATIENT_STORE });
  const keyward = createKeyward({ store: b, scopes: ['a:read'], pepper: TEST_PEPPER, cache: false });
  const events = async (org: string) => (await keyward.listEvents(org)).events.map((e) => e.type);
  const locks = () =>
    connectionB.db?.collection(`${collection}_locks`).countDocuments({ claim: { $ne: true } });
  const pointers = (keyId: string) =>
    connectionB.db?.collection(`${collection}_hashes`).countDocuments({ keyId });
  return { a, b, keyward, events, locks, pointers };
}

describe.each(STEPS)('A writer stopped after the step "%s" of a guarded write', (step) => {
  // Stopped once the write was recorded in its lease, it lands (the next holder finishes it); before, not.
  const lands = step !== 'leased';

  it('disable: the next writer finishes or drops it within the lease, with exactly one event', async () => {
    const { a, keyward, events, locks } = setUp(step);
    const org = uniqueOrganization();
    const { key, token } = await keyward.createKey(org, { name: 'Server', type: 'secret' });
    const event = buildKeyEvent('key.disabled', key, new Date());
    const error = await a
      .update(org, key.id, { disabled: true, updatedAt: new Date() }, { version: 0, event })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyStoreUnavailableError);
    expect(error).toMatchObject({ mayHaveApplied: lands });
    // The next writer waits for the lease to expire, takes it over and finishes A's write first.
    await keyward.updateKey(org, key.id, { name: 'After' });
    expect(await keyward.getKey(org, key.id)).toMatchObject({ name: 'After', disabled: lands });
    expect(await events(org)).toEqual(
      lands ? ['key.updated', 'key.disabled', 'key.created'] : ['key.updated', 'key.created'],
    );
    expect(await keyward.verify(token)).toMatchObject(
      lands ? { valid: false, code: 'disabled_api_key' } : { valid: true },
    );
    expect(await locks()).toBe(0);
  });

  it('delete: a key whose deletion was recorded never comes back, and reads back deleted', async () => {
    const { a, keyward, events, locks } = setUp(step);
    const org = uniqueOrganization();
    const { key, token } = await keyward.createKey(org, { name: 'Server', type: 'secret' });
    const event = buildKeyEvent('key.deleted', key, new Date());
    await expect(a.update(org, key.id, { deletedAt: new Date() }, { event })).rejects.toBeInstanceOf(
      KeyStoreUnavailableError,
    );
    // Reading back waits for the write to settle: definitive.
    expect(await keyward.getKey(org, key.id)).toEqual(lands ? null : expect.objectContaining({ id: key.id }));
    if (lands) {
      await expect(keyward.updateKey(org, key.id, { name: 'Back?' })).rejects.toMatchObject({
        code: 'not_found',
      });
      expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    }
    expect(await events(org)).toEqual(lands ? ['key.deleted', 'key.created'] : ['key.created']);
    // A lease left with nothing recorded in it only expires (the next writer of the key takes it over).
    expect(await locks()).toBe(lands ? 0 : 1);
  });

  it('roll: the old key and its successor land together or not at all', async () => {
    const { a, b, keyward, events, locks } = setUp(step);
    const org = uniqueOrganization();
    const { key } = await keyward.createKey(org, { name: 'Server', type: 'secret' });
    const successor = makeStoredKey({ organizationId: org, name: 'Server', slot: `roll:${key.id}:0` });
    const now = new Date();
    const event = buildKeyEvent('key.rolled', key, now);
    await expect(
      a.update(
        org,
        key.id,
        { rolledAt: now, replacedBy: successor.id, expiresAt: new Date(now.getTime() + 60_000) },
        { version: 0, event, successor },
      ),
    ).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    const old = await keyward.getKey(org, key.id);
    const listed = (await b.list(org)).map((k) => k.id).sort();
    if (lands) {
      expect(old).toMatchObject({ status: 'rolled', replacedBy: successor.id });
      expect(listed).toEqual([key.id, successor.id].sort());
      expect((await b.findByHash(successor.hash))?.id).toBe(successor.id);
    } else {
      expect(old).toMatchObject({ status: 'active', replacedBy: null });
      expect(listed).toEqual([key.id]);
      expect(await b.findByHash(successor.hash)).toBeNull();
      // ...and it can be rolled now.
      expect((await keyward.rollKey(org, key.id)).previous.status).toBe('rolled');
    }
    expect((await events(org)).filter((t) => t === 'key.rolled')).toHaveLength(1);
    expect(await locks()).toBe(0);
  });

  it('re-hash: the key ends up under exactly one hash, the old pointer gone when it moved', async () => {
    const { a, b, locks, pointers } = setUp(step);
    const org = uniqueOrganization();
    const key = makeStoredKey({ organizationId: org });
    await b.insert(key);
    const to = createTokenHasher('another-pepper-for-the-crash-test')('some token');
    await expect(a.rehash(key, to)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    expect(await b.findById(org, key.id)).toMatchObject({ hash: lands ? to : key.hash });
    expect((await b.findByHash(to))?.id).toEqual(lands ? key.id : undefined);
    expect((await b.findByHash(key.hash))?.id).toEqual(lands ? undefined : key.id);
    // One pointer once the write settled: the old hash leaves the store with the move.
    if (lands) {
      expect(await pointers(key.id)).toBe(1);
      expect(await locks()).toBe(0);
    }
  });

  it('insert: the upkeep (deliverEvents) finishes a recorded insert with its event, once', async () => {
    const { a, b, keyward, events, locks } = setUp(step);
    const org = uniqueOrganization();
    const key = makeStoredKey({ organizationId: org });
    const event = buildKeyEvent('key.created', key, key.createdAt);
    await expect(a.insert(key, event)).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await delay(LEASE_MS + 50);
    const finished = await pollUntil(async () => (await b.deliverEvents()) > 0 || !lands, {
      timeoutMs: 3_000,
      intervalMs: 50,
    });
    expect(finished, 'the upkeep found the recorded write once its lease expired').not.toBeNull();
    expect(await b.deliverEvents()).toBe(0);
    expect((await b.findById(org, key.id))?.id).toEqual(lands ? key.id : undefined);
    expect((await b.findByHash(key.hash))?.id).toEqual(lands ? key.id : undefined);
    expect(await events(org)).toEqual(lands ? ['key.created'] : []);
    if (lands) expect(await locks()).toBe(0);
    await keyward.close();
  });
});
