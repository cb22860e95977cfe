import { createKeyward } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import type { Connection } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

const { db } = useConnections('read-timeout');

interface Sent {
  commandName: string;
  command: Record<string, unknown>;
}

describe.each(MONGOOSE_MAJORS)('the reads of a store call on %s', (_label, mongoose) => {
  it('carry maxTimeMS = timeoutMs, so the server cancels a slow read rather than leaving it running', async () => {
    const connection = (await mongoose
      .createConnection(db.uri, { serverSelectionTimeoutMS: 5_000, monitorCommands: true })
      .asPromise()) as unknown as Connection;
    try {
      const sent: Sent[] = [];
      connection.getClient().on('commandStarted', (event: Sent) => sent.push(event));
      const collection = uniqueCollection();
      const store = new MongoKeyStore({ connection, collection, timeoutMs: 4321 });
      const keyward = createKeyward({ store, scopes: ['read'], pepper: TEST_PEPPER });
      const organization = uniqueOrganization();
      const { key, token } = await keyward.createKey(organization, { name: 'Timed', type: 'secret' });
      sent.length = 0;
      // A fresh service: no cache, so verify reads the hash pointer and the key.
      const cold = createKeyward({ store, scopes: ['read'], pepper: TEST_PEPPER });
      expect(await cold.verify(token)).toMatchObject({ valid: true, key: { id: key.id } });
      expect((await store.findById(organization, key.id))?.id).toBe(key.id);
      expect(await store.list(organization)).toHaveLength(1);
      expect(await store.countKeys?.(organization)).toBe(1);
      const reads = sent.filter(
        (e) =>
          (e.commandName === 'find' || e.commandName === 'aggregate' || e.commandName === 'count') &&
          String(e.command.find ?? e.command.aggregate ?? e.command.count).startsWith(collection),
      );
      const readOf = (name: string) => reads.filter((e) => (e.command.find ?? e.command.aggregate) === name);
      expect(readOf(`${collection}_hashes`).length).toBeGreaterThan(0);
      expect(readOf(collection).length).toBeGreaterThan(0);
      for (const read of [...readOf(`${collection}_hashes`), ...readOf(collection)]) {
        expect(read.command.maxTimeMS, JSON.stringify(read.command)).toBe(4321);
      }
    } finally {
      await connection.close();
    }
  });
});
