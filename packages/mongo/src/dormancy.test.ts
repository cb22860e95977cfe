import { describeDormancyScenarios } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { uniqueCollection } from './test-helpers.js';

const { connect } = useConnections('dormancy');
const [label, mongoose] = MONGOOSE_MAJORS[1];

describe(`MongoKeyStore on ${label}`, () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = (await connect(mongoose)) as unknown as Connection;
  });

  // Dormancy, concurrent sweeps and roll history through the service, on the server CI runs (FerretDB).
  describeDormancyScenarios('MongoKeyStore', {
    createStore: () => new MongoKeyStore({ connection, collection: uniqueCollection(), ...PATIENT_STORE }),
    destroyStore: (store) => store.close?.(),
  });
});
