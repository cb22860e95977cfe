import { EventEmitter } from 'node:events';
import type { KeyChangeEvent } from '@keyward/core';
import type { Connection, Model } from 'mongoose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed, type ChangeStreamLike, StreamHealth } from './change-feed.js';
import { type ChangeDocument, changeModel } from './schema.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import { pollUntil, uniqueCollection } from './test-helpers.js';

const { connect } = useConnections('change-feed-heartbeat');

describe('StreamHealth, the change stream fallback decision', () => {
  it('calls a stream stale once none of its heartbeats came back for the limit, and fresh again when one does', () => {
    const health = new StreamHealth(15_000, 1_000);
    expect(health.isStale(15_999)).toBe(false);
    expect(health.isStale(16_000)).toBe(true);
    health.heard(10_000);
    expect(health.isStale(16_000)).toBe(false);
    expect(health.isStale(25_000)).toBe(true);
    // A heartbeat reported late never moves the last one back.
    health.heard(5_000);
    expect(health.isStale(24_999)).toBe(false);
  });
});

/** A stream that opens and never delivers anything, like a change stream behind a proxy that eats events. */
function silentStream(): ChangeStreamLike & { closed: boolean } {
  const stream = Object.assign(new EventEmitter(), {
    closed: false,
    async close() {
      stream.closed = true;
    },
  });
  queueMicrotask(() => stream.emit('resumeTokenChanged'));
  return stream;
}

/** A stream that delivers every insert into the change log, read by tailing the real collection. */
function tailingStream(model: Model<ChangeDocument>): ChangeStreamLike {
  const since = new Date(Date.now() - 1_000);
  const seen = new Set<string>();
  let open = true;
  const stream = Object.assign(new EventEmitter(), {
    async close() {
      open = false;
    },
  });
  const tick = async () => {
    if (!open) return;
    const docs = await model.collection.find({ at: { $gte: since } }).toArray();
    for (const doc of docs) {
      const id = String(doc._id);
      if (seen.has(id) || !open) continue;
      seen.add(id);
      stream.emit('change', { _id: { _data: id }, operationType: 'insert', fullDocument: doc });
    }
    setTimeout(tick, 20).unref();
  };
  void tick();
  queueMicrotask(() => stream.emit('resumeTokenChanged'));
  return stream;
}

describe('The change-stream mechanism proves itself with heartbeats (polling side on the real server)', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];
  let connection: Connection;
  const feeds: ChangeFeed[] = [];
  beforeAll(async () => {
    connection = (await connect(mongoose)) as unknown as Connection;
  });
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((feed) => feed.stop()));
  });

  function feed(model: Model<ChangeDocument>, openStream: () => ChangeStreamLike, heartbeatMs: number) {
    const events: KeyChangeEvent[] = [];
    const changeFeed = new ChangeFeed(
      model,
      {
        mode: 'change-stream',
        pollIntervalMs: 50,
        overlapMs: 10_000,
        heartbeatMs,
        heartbeatsMissed: 3,
        openStream,
      },
      (event) => events.push(event),
    );
    feeds.push(changeFeed);
    return { changeFeed, events };
  }

  it('falls back to polling, clears caches and keeps delivering changes when its stream never delivers', async () => {
    const model = changeModel(connection, uniqueCollection());
    await model.createIndexes();
    const stream = silentStream();
    const { changeFeed, events } = feed(model, () => stream, 100);
    await changeFeed.start();
    expect(changeFeed.mechanism).toBe('change-stream');
    const fellBack = await pollUntil(() => changeFeed.mechanism === 'poll', {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    expect(fellBack, 'fell back to polling').not.toBeNull();
    console.log(
      `[change-feed] a silent stream was given up after ${fellBack?.toFixed(0)} ms (3 heartbeats of 100 ms)`,
    );
    expect(stream.closed).toBe(true);
    expect(events).toContainEqual({ reset: true });
    // It wrote heartbeats to the real change log, and pollers do not take them for key changes.
    expect(await model.collection.countDocuments({ heartbeat: { $exists: true } })).toBeGreaterThan(0);
    await model.collection.insertOne({
      _id: new mongoose.Types.ObjectId(),
      keyId: 'key_after_fallback',
      at: new Date(),
    } as never);
    const delivered = await pollUntil(() => events.some((e) => 'id' in e && e.id === 'key_after_fallback'), {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    expect(delivered, 'the poll delivered a change after the fallback').not.toBeNull();
    expect(events.filter((e) => 'id' in e).map((e) => (e as { id: string }).id)).toEqual([
      'key_after_fallback',
    ]);
  });

  it('stays on its change stream while its heartbeats come back, and delivers key changes', async () => {
    const model = changeModel(connection, uniqueCollection());
    await model.createIndexes();
    // Generous periods: a loaded machine must not make a working stream look stale.
    const { changeFeed, events } = feed(model, () => tailingStream(model), 500);
    await changeFeed.start();
    const beats = await pollUntil(
      async () => (await model.collection.countDocuments({ heartbeat: { $exists: true } })) >= 5,
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(beats, 'five heartbeats were written').not.toBeNull();
    expect(changeFeed.mechanism).toBe('change-stream');
    expect(events).not.toContainEqual({ reset: true });
    await model.collection.insertOne({
      _id: new mongoose.Types.ObjectId(),
      keyId: 'key_streamed',
      at: new Date(),
    } as never);
    expect(
      await pollUntil(() => events.some((e) => 'id' in e && e.id === 'key_streamed'), {
        timeoutMs: 5_000,
        intervalMs: 20,
      }),
    ).not.toBeNull();
    expect(changeFeed.mechanism).toBe('change-stream');
  });
});
