import { createKeyward, type KeyEvent } from '@keyward/core';
import { TEST_PEPPER, testClock } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect } = useConnections('event_fields');
const [, mongoose] = MONGOOSE_MAJORS[1];

let connection: Connection;
beforeAll(async () => {
  connection = (await connect(mongoose)) as unknown as Connection;
});

describe('the fields of one event type survive the round trip through the event log', () => {
  it('key.leaked keeps source and url when read back (listEvents)', async () => {
    const store = new MongoKeyStore({ connection, collection: uniqueCollection() });
    const clock = testClock();
    const seen: KeyEvent[] = [];
    const keyward = createKeyward({
      store,
      scopes: ['a'],
      pepper: TEST_PEPPER,
      clock: clock.now,
      onEvent: (event) => void seen.push(event),
    });
    try {
      const org = uniqueOrganization();
      const { key, token } = await keyward.createKey(org, { name: 'Leaky', type: 'secret' });
      const url = 'https://github.com/acme/app/blob/abc123/config.js';
      const result = await keyward.reportLeak(token, { source: 'github:content', url, onLeak: 'report' });
      expect(result).toMatchObject({ found: true });
      const { events } = await keyward.listEvents(org, { keyId: key.id, type: 'key.leaked' });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ type: 'key.leaked', source: 'github:content', url });
      // The same event as onEvent heard, field for field.
      expect(events[0]).toEqual(seen.find((e) => e.type === 'key.leaked'));
      expect(JSON.stringify(events)).not.toContain(token);
    } finally {
      await keyward.close();
      await store.close();
    }
  });

  it('a roll event recovered from a dead writer keeps replacedBy, and the successor gets key.created', async () => {
    const collection = uniqueCollection();
    let crash = true;
    const store = new MongoKeyStore({
      connection,
      collection,
      leaseMs: 1_000,
      faults: {
        crash: (step) => {
          if (crash && step === 'written') throw new Error('writer died');
        },
      },
    });
    const clock = testClock();
    const keyward = createKeyward({ store, scopes: ['a'], pepper: TEST_PEPPER, clock: clock.now });
    try {
      const org = uniqueOrganization();
      crash = false;
      const { key } = await keyward.createKey(org, { name: 'Chain', type: 'secret' });
      crash = true;
      // The writer stops after the key write, before the events: the service reads the key back (which
      // settles the write) and may answer the roll after all; either way the roll has landed.
      await keyward.rollKey(org, key.id).catch(() => null);
      crash = false;
      // Whoever reads the key next finishes the recorded write, with both its events.
      const after = await store.findById(org, key.id);
      expect(after?.replacedBy).toEqual(expect.any(String));
      await keyward.maintainEvents();
      const { events } = await keyward.listEvents(org, { limit: 10 });
      const rolled = events.find((e) => e.type === 'key.rolled');
      const created = events.find((e) => e.type === 'key.created' && e.keyId === after?.replacedBy);
      expect(rolled).toMatchObject({ keyId: key.id, replacedBy: after?.replacedBy });
      expect(created).toMatchObject({ rolledFrom: key.id });
      expect(events).toHaveLength(3);
    } finally {
      await keyward.close();
      await store.close();
    }
  });
});
