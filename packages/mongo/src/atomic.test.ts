import { createKeyward, KeywardError } from '@keyward/core';
import { makeStoredKey, TEST_PEPPER } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect, db } = useConnections('atomic');

// Every server, FerretDB 1.24 included (whose updates alone are a read and a separate write): the check and
// the write are one guarded write under the key's lease.
describe.each(MONGOOSE_MAJORS)(
  `Conditional writes under concurrency with %s (on ${db.kind})`,
  (_label, mongoose) => {
    let connection: Connection;
    beforeAll(async () => {
      connection = (await connect(mongoose)) as unknown as Connection;
    });

    it('lets exactly one of 20 concurrent updates conditional on one version succeed', async () => {
      const store = new MongoKeyStore({
        connection,
        collection: uniqueCollection(),
        ...PATIENT_STORE,
      });
      try {
        const org = uniqueOrganization();
        const key = makeStoredKey({ organizationId: org });
        await store.insert(key);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.update(
              org,
              key.id,
              { rolledAt: new Date(), replacedBy: `key_winner_${i}` },
              { version: 0 },
            ),
          ),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await store.findById(org, key.id)).toMatchObject({
          replacedBy: winners[0]?.replacedBy,
          version: 1,
        });
      } finally {
        await store.close();
      }
    });

    it('lets exactly one of 10 concurrent rolls of one key succeed', async () => {
      const store = new MongoKeyStore({
        connection,
        collection: uniqueCollection(),
        ...PATIENT_STORE,
      });
      const keyward = createKeyward({ store, pepper: TEST_PEPPER, scopes: ['a:read'] });
      try {
        const org = uniqueOrganization();
        const { key } = await keyward.createKey(org, { name: 'Rolled', type: 'secret' });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, () => keyward.rollKey(org, key.id)),
        );
        const fulfilled = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        expect(fulfilled).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(KeywardError);
            expect(outcome.reason).toMatchObject({ code: 'conflict' });
          }
        }
        const listed = (await keyward.listKeys(org)).keys;
        expect(listed.map((k) => k.id).sort()).toEqual([key.id, fulfilled[0]?.key.id].sort());
        expect(listed.find((k) => k.id === key.id)).toMatchObject({
          status: 'rolled',
          replacedBy: fulfilled[0]?.key.id,
        });
      } finally {
        await keyward.close();
        await store.close();
      }
    });
  },
);
