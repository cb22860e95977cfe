import { setTimeout as delay } from 'node:timers/promises';
import type { KeyChangeEvent } from '@keyward/core/store';
import mongoose9 from 'mongoose9';
import { describe, expect, it } from 'vitest';
import { ChangeFeed } from './change-feed.js';
import { storeModels } from './schema.js';
import { useConnections } from './test-connections.js';

const { connect } = useConnections('change-feed-paging');

describe('the polling change feed', () => {
  it('pages through a burst of more changes than one query reads', async () => {
    const connection = (await connect(mongoose9)) as unknown as mongoose9.Connection;
    const model = storeModels(connection as never, 'paging_keys').changes;
    await model.createIndexes();
    const at = new Date();
    const ids = Array.from({ length: 23 }, (_, i) => `key_${String(i).padStart(20, '0')}`);
    await model.collection.insertMany(
      ids.map((keyId) => ({ _id: new connection.base.Types.ObjectId(), keyId, at }) as never),
    );
    const seen = new Set<string>();
    const feed = new ChangeFeed(
      model as never,
      { pollIntervalMs: 50, overlapMs: 10_000, pageSize: 5 },
      (event: KeyChangeEvent) => {
        if ('id' in event) seen.add(event.id);
      },
    );
    await feed.start();
    try {
      for (let waited = 0; seen.size < ids.length && waited < 5_000; waited += 50) await delay(50);
      expect([...seen].sort()).toEqual(ids);
    } finally {
      await feed.stop();
    }
  });
});
