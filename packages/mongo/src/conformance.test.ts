import { runKeyStoreConformance } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { beforeAll, describe } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, OLDER_MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';

const { connect } = useConnections('conformance');
let collections = 0;

describe.each([...MONGOOSE_MAJORS, ...OLDER_MONGOOSE_MAJORS])('MongoKeyStore on %s', (label, mongoose) => {
  let connection: Connection;
  beforeAll(async () => {
    connection = (await connect(mongoose)) as unknown as Connection;
  });

  runKeyStoreConformance(`MongoKeyStore (${label})`, {
    createStore: () =>
      new MongoKeyStore({ connection, collection: `keys_${++collections}`, ...PATIENT_STORE }),
    createEventStore: (options) =>
      new MongoKeyStore({
        connection,
        collection: `keys_${++collections}`,
        ...PATIENT_STORE,
        ...options,
      }),
    destroyStore: (store) => store.close?.(),
  });
});
