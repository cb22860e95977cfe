import { createKeyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import { MongoKeyStore } from '@keyward/mongo';
import { useTestDatabase } from '@keyward/test-db';
import { describe, expect, it, vi } from 'vitest';
import { openDemoStore } from './store.js';

const db = useTestDatabase('demo-store');

/** Creates a key through the store and reads it back. */
async function roundTrip(store: Parameters<typeof createKeyward>[0]['store']) {
  const keyward = createKeyward({ store, scopes: ['a'], pepper: TEST_PEPPER });
  const { key } = await keyward.createKey('org_store', { name: 'K', type: 'secret' });
  expect((await keyward.getKey('org_store', key.id))?.name).toBe('K');
  await keyward.close();
}

describe('openDemoStore', () => {
  it('uses MONGO_URL when it is set, and nothing else', async () => {
    const startEmbedded = vi.fn();
    const { store, description, close } = await openDemoStore({ mongoUrl: db.uri, startEmbedded });
    try {
      expect(store).toBeInstanceOf(MongoKeyStore);
      expect(description).toMatch(/^MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\//);
      expect(startEmbedded).not.toHaveBeenCalled();
      await roundTrip(store);
    } finally {
      await close();
    }
  });

  it('starts the embedded MongoDB without MONGO_URL, and stops it on close', async () => {
    const stop = vi.fn(async () => {});
    const { store, description, close } = await openDemoStore({
      mongoUrl: '',
      startEmbedded: async () => ({ uri: db.uri, stop }),
    });
    expect(store).toBeInstanceOf(MongoKeyStore);
    expect(description).toBe('an embedded MongoDB (mongodb-memory-server)');
    await roundTrip(store);
    await close();
    expect(stop).toHaveBeenCalledOnce();
  });

  it('falls back to the memory store, and says so in one line, when no MongoDB binary can be had', async () => {
    const notice = vi.fn();
    const { store, description } = await openDemoStore({
      mongoUrl: '',
      notice,
      startEmbedded: async () => {
        throw new Error(
          'cannot download a MongoDB binary from https://fastdl.mongodb.org (ENOTFOUND)\n  at …',
        );
      },
    });
    expect(store).toBeInstanceOf(MemoryKeyStore);
    expect(description).toBe('memory (no MongoDB)');
    expect(notice).toHaveBeenCalledOnce();
    const [line] = notice.mock.calls[0] as [string];
    expect(line).not.toContain('\n');
    expect(line).toMatch(
      /^\[demo\] no MongoDB binary could be had \(cannot download .+ \(ENOTFOUND\)\): keys are kept in memory/,
    );
    expect(line).toContain('Set MONGO_URL');
  });
});
