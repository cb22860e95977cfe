import { runRaceScenarios } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { uniqueCollection } from './test-helpers.js';

const { connect, db } = useConnections('races');

/**
 * Every invariant is asserted, on FerretDB too: each write of a key is a guarded write under the key's
 * lease (README, "Write path"). Seeded: the seed is printed; `KEYWARD_RACES_SEED` replays it.
 * Stress run: `KEYWARD_RACES_ROUNDS=200 pnpm vitest run src/races.test.ts` in packages/mongo.
 */
const seed = Number(process.env.KEYWARD_RACES_SEED ?? Math.floor(Math.random() * 2 ** 31));
const rounds = Number(process.env.KEYWARD_RACES_ROUNDS ?? 20);
console.log(`[races] ${db.kind}: seed ${seed} (replay with KEYWARD_RACES_SEED=${seed}), ${rounds} rounds`);

const report = (scenario: string, n: number, violations: Record<string, number | undefined>) => {
  const found = Object.entries(violations).map(([k, v]) => `${k} ${v}/${n}`);
  console.log(`[races] ${scenario}: ${found.length ? found.join(', ') : `no violation in ${n} rounds`}`);
};

describe('Races through the service on MongoKeyStore', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];
  /** Three app instances: a connection (pool) each. */
  const connections: Connection[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) connections.push((await connect(mongoose)) as unknown as Connection);
  });
  const store = (connection: Connection | undefined, collection: string) => {
    if (!connection) throw new Error('no connection');
    return new MongoKeyStore({ connection, collection, ...PATIENT_STORE });
  };

  describe('one instance', () => {
    runRaceScenarios(`MongoKeyStore on ${db.kind}, one instance`, {
      createStore: () => store(connections[0], uniqueCollection()),
      destroyStore: (s) => s.close?.(),
      seed,
      rounds,
      report,
    });
  });

  describe('three instances, a connection each', () => {
    let collection = '';
    runRaceScenarios(`MongoKeyStore on ${db.kind}, three instances`, {
      createStore: () => {
        collection = uniqueCollection();
        return store(connections[0], collection);
      },
      createPeers: () => [store(connections[1], collection), store(connections[2], collection)],
      destroyStore: (s) => s.close?.(),
      seed: seed + 1_000,
      rounds,
      report,
    });
  });
});
