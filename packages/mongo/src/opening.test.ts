import mongoose9 from 'mongoose9';
import { describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { useConnections } from './test-connections.js';

const { db } = useConnections('opening');

// ensureIndexes() before the connection was open threw mongoose's message about
// `bufferCommands = false`, an option the user never set.
describe('MongoKeyStore on a connection that is not open yet', () => {
  it('waits for a connection that is still opening', async () => {
    const connection = mongoose9.createConnection(db.uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      const store = new MongoKeyStore({ connection: connection as never });
      await store.ensureIndexes();
      expect(await store.findByHash('0'.repeat(64))).toBeNull();
    } finally {
      await connection.close();
    }
  });

  it('says the connection is not open, and how to open it, when it was closed', async () => {
    const connection = await mongoose9.createConnection(db.uri).asPromise();
    await connection.close();
    const store = new MongoKeyStore({ connection: connection as never });
    await expect(store.ensureIndexes()).rejects.toThrow(/connection is not open .*asPromise\(\)/);
  });

  it('says what to check, without the URL, when the server cannot be reached', async () => {
    const url = 'mongodb://user:secret-password@127.0.0.1:9/db';
    const connection = mongoose9.createConnection(url, { serverSelectionTimeoutMS: 300 });
    connection.on('error', () => {});
    const store = new MongoKeyStore({ connection: connection as never });
    const error = await store.ensureIndexes().catch((e: Error) => e);
    expect(String(error)).toMatch(/could not be opened.*serverSelectionTimeoutMS/);
    expect(String(error)).not.toContain('secret-password');
    await connection.close().catch(() => {});
  });
});
