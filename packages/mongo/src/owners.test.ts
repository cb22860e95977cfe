import { createKeyward, type Keyward } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import mongoose9 from 'mongoose9';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { PATIENT_STORE, useConnections } from './test-connections.js';
import { pollUntil, uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect } = useConnections('owners');

/** 3× the documented 1 s freshness bound for other instances (conventions.md "Tests"). */
const BOUND_MS = 3_000;
const alice = { type: 'user' as const, id: 'u_alice' };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function instance(collection: string): Promise<{ store: MongoKeyStore; keyward: Keyward }> {
  const connection = (await connect(mongoose9)) as unknown as Connection;
  const store = new MongoKeyStore({ connection, collection, ...PATIENT_STORE });
  const keyward = createKeyward({
    store,
    pepper: TEST_PEPPER,
    scopes: ['a:read'],
    publicScopes: ['a:read'],
    usage: { flushDelayMs: 600_000 },
  });
  cleanups.push(async () => {
    await keyward.close();
    await store.close();
  });
  await store.ensureIndexes();
  await store.feedReady();
  return { store, keyward };
}

describe('Owners and meta on FerretDB / MongoDB', () => {
  it('stores meta, owner and createdBy, and lists by owner', async () => {
    const { keyward } = await instance(uniqueCollection());
    const org = uniqueOrganization();
    const context = { actor: { type: 'user' as const, id: 'admin_1' } };
    const mine = await keyward.createKey(
      org,
      { name: 'Mine', type: 'secret', owner: alice, meta: { customerId: 'cus_1', n: [1, 2] } },
      context,
    );
    await keyward.createKey(org, { name: 'Theirs', type: 'secret', owner: { type: 'user', id: 'u_bob' } });
    const read = await keyward.getKey(org, mine.key.id);
    expect(read).toMatchObject({
      owner: alice,
      createdBy: { type: 'user', id: 'admin_1' },
      meta: { customerId: 'cus_1', n: [1, 2] },
    });
    const verified = await keyward.verify(mine.token);
    expect(verified.valid && verified.key.meta).toEqual({ customerId: 'cus_1', n: [1, 2] });
    expect((await keyward.listKeys(org, { owner: 'user:u_alice' })).keys.map((k) => k.id)).toEqual([
      mine.key.id,
    ]);
    await keyward.updateKey(org, mine.key.id, { meta: null, owner: null });
    expect(await keyward.getKey(org, mine.key.id)).toMatchObject({ meta: null, owner: null });
    expect((await keyward.listKeys(org, { owner: 'user:u_alice' })).keys).toEqual([]);
  });

  it('revokeOwnerKeys on A: every key of the owner refused on B within the bound', async () => {
    const collection = uniqueCollection();
    const a = await instance(collection);
    const b = await instance(collection);
    const org = uniqueOrganization();
    const tokens: string[] = [];
    for (let i = 0; i < 60; i++) {
      tokens.push((await a.keyward.createKey(org, { name: `K${i}`, type: 'secret', owner: alice })).token);
    }
    for (const token of tokens) expect((await b.keyward.verify(token)).valid).toBe(true);
    const { keyIds } = await a.keyward.revokeOwnerKeys(org, alice, { action: 'disable' });
    expect(keyIds).toHaveLength(60);
    for (const token of tokens) {
      expect(await a.keyward.verify(token)).toMatchObject({ valid: false, code: 'disabled_api_key' });
    }
    // Measured from the end of the revocation: every key refused by B.
    const elapsed = await pollUntil(
      async () => {
        const results = await Promise.all(tokens.map((t) => b.keyward.verify(t)));
        return results.every((r) => !r.valid && r.code === 'disabled_api_key');
      },
      { timeoutMs: BOUND_MS, intervalMs: 50 },
    );
    console.log(
      `[owners] B refused all 60 revoked keys after ${Math.round(elapsed ?? Number.NaN)} ms (bound ${BOUND_MS} ms)`,
    );
    expect(elapsed, 'B refused every revoked key within 3 s').not.toBeNull();
    const { events } = await a.keyward.listEvents(org, { type: 'key.disabled', limit: 100 });
    expect(events.map((e) => e.keyId).sort()).toEqual([...keyIds].sort());
  }, 120_000);
});
