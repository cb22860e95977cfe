import { createKeyward, type Keyward } from '@keyward/core';
import { TEST_PEPPER, testClock } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { connect } = useConnections('usage');
const [, mongoose] = MONGOOSE_MAJORS[1];
const T0 = Date.parse('2030-01-01T00:00:00Z');

let connectionA: Connection;
let connectionB: Connection;
beforeAll(async () => {
  connectionA = (await connect(mongoose)) as unknown as Connection;
  connectionB = (await connect(mongoose)) as unknown as Connection;
});

/** Two app instances: two services on two MongoKeyStores (two connections) of one collection, one clock. */
function twoInstances() {
  const collection = uniqueCollection();
  const clock = testClock(T0);
  const service = (connection: Connection): Keyward =>
    createKeyward({
      store: new MongoKeyStore({ connection, collection, ...PATIENT_STORE }),
      clock: clock.now,
      pepper: TEST_PEPPER,
      scopes: ['a:read', 'a:write'],
      publicScopes: ['a:read'],
      usage: { flushIntervalMs: 600_000 },
    });
  return { clock, a: service(connectionA), b: service(connectionB), org: uniqueOrganization() };
}

describe('usage counts on MongoKeyStore (docs/reference.md §9)', () => {
  it('adds up both instances exactly after a flush, refusals under their code, across granularities', async () => {
    const { clock, a, b, org } = twoInstances();
    const { key, token } = await a.createKey(org, { name: 'Busy', type: 'public' });
    for (let i = 0; i < 4; i++) expect((await a.verify(token)).valid).toBe(true);
    for (let i = 0; i < 3; i++) expect((await b.verify(token)).valid).toBe(true);
    await b.verify(token, { scopes: ['a:write'] });
    // As the middleware does: verify admits, the route's IP check refuses, the final outcome is reported.
    expect((await a.verify(token, undefined, { count: 'refusals' })).valid).toBe(true);
    a.recordOutcome(key, 'ip_not_allowed');
    await Promise.all([a.flushUsage(), b.flushUsage()]);
    // A second flush of the same minute replaces each instance's bucket (running totals, no double count).
    await a.verify(token);
    await a.flushUsage();
    clock.advance(3_600_000); // the next hour
    await b.verify(token);
    await b.updateKey(org, key.id, { disabled: true });
    await b.verify(token);
    await Promise.all([a.flushUsage(), b.flushUsage()]);

    const hours = await a.keyUsage(org, key.id, {
      granularity: 'hour',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-01T03:00:00Z',
    });
    expect(hours).toEqual({
      granularity: 'hour',
      data: [
        {
          at: '2030-01-01T00:00:00.000Z',
          admitted: 8,
          refused: { insufficient_scope: 1, ip_not_allowed: 1 },
        },
        { at: '2030-01-01T01:00:00.000Z', admitted: 1, refused: { disabled_api_key: 1 } },
        { at: '2030-01-01T02:00:00.000Z', admitted: 0, refused: {} },
      ],
    });
    const minutes = await b.keyUsage(org, key.id, {
      granularity: 'minute',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-01T00:02:00Z',
    });
    expect(minutes?.data.map((d) => d.admitted)).toEqual([8, 0]);
    const days = await b.usage(org, {
      granularity: 'day',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-02T00:00:00Z',
    });
    expect(days.data).toEqual([
      {
        at: '2030-01-01T00:00:00.000Z',
        admitted: 9,
        refused: { insufficient_scope: 1, ip_not_allowed: 1, disabled_api_key: 1 },
      },
    ]);
    expect(days.topKeys.map((k) => [k.id, k.admitted])).toEqual([[key.id, 9]]);
    expect(await b.keyUsage(uniqueOrganization(), key.id)).toBeNull();
  });

  it('loses at most the unflushed interval of an instance that crashes', async () => {
    const { a, b, org } = twoInstances();
    const { key, token } = await a.createKey(org, { name: 'Crash', type: 'public' });
    for (let i = 0; i < 3; i++) await b.verify(token);
    await b.flushUsage();
    for (let i = 0; i < 2; i++) await b.verify(token); // b "crashes": these are never flushed
    for (let i = 0; i < 5; i++) await a.verify(token);
    await a.flushUsage();
    const usage = await a.keyUsage(org, key.id, {
      granularity: 'day',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-02T00:00:00Z',
    });
    expect(usage?.data[0]?.admitted).toBe(8);
  });
});
