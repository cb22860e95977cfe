import { setTimeout as delay } from 'node:timers/promises';
import { createKeyward, type Keyward, type VerifyRequirements } from '@keyward/core';
import type { VerifyFailureCode } from '@keyward/core/schemas';
import { makeStoredKey, TEST_PEPPER } from '@keyward/core/testing';
import { type RestartableDatabase, startRestartableDatabase } from '@keyward/test-db';
import type { Connection } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MongoKeyStore, type MongoKeyStoreOptions } from './mongo-store.js';
import { MONGOOSE_MAJORS, useConnections } from './test-connections.js';
import {
  ms,
  percentile,
  pollUntil,
  recordAnnouncements,
  SLOW,
  seededRandomFor,
  toRawDocument,
  uniqueCollection,
  uniqueOrganization,
} from './test-helpers.js';

const { connect } = useConnections('change-feed');
/** Where in B's poll cycle each deletion starts: seeded, printed, replayable. */
const random = seededRandomFor('change-feed');

type Mongoose = (typeof MONGOOSE_MAJORS)[number][1];
const SCOPES = ['a:read', 'a:write'];
/** docs/reference.md's freshness bound for other instances (§2 "Freshness"). */
const FRESHNESS_MS = 1_000;
/**
 * What the tests assert: 3× the documented bound, so a loaded shared machine does not fail them
 * (conventions.md "Tests"). The measured figures are printed; the real figure is bench/ (propagation).
 */
const BOUND_MS = 3 * FRESHNESS_MS;
/** MongoKeyStore's default poll period. */
const POLL_INTERVAL_MS = 250;

interface Instance {
  store: MongoKeyStore;
  keyward: Keyward;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An app instance: its own connection, store and Keyward (default cache, ttl 60 s); closed after the test. */
async function instance(
  connection: Connection,
  options: Omit<MongoKeyStoreOptions, 'connection'>,
): Promise<Instance> {
  const store = new MongoKeyStore({ connection, ...options });
  // Last-use flushes kept out of the test window: only the change under test touches the store.
  const usage = { flushDelayMs: 600_000 };
  const keyward = createKeyward({
    store,
    pepper: TEST_PEPPER,
    scopes: SCOPES,
    publicScopes: ['a:read'],
    usage,
  });
  cleanups.push(async () => {
    await keyward.close();
    await store.close();
  });
  await store.feedReady();
  return { store, keyward };
}

/** Instances A and B of one app: same database and collection, a connection each. */
async function twoInstances(
  mongoose: Mongoose,
  options: Omit<MongoKeyStoreOptions, 'connection' | 'collection'> = {},
): Promise<{ a: Instance; b: Instance }> {
  const collection = uniqueCollection();
  const a = await instance((await connect(mongoose)) as unknown as Connection, { collection, ...options });
  const b = await instance((await connect(mongoose)) as unknown as Connection, { collection, ...options });
  return { a, b };
}

/**
 * Creates a key through A and has both instances cache it (an insert is not announced by the feed: a new
 * key was never cached anywhere); a second verify on B must not read the store.
 * `lookupsOnB()` counts B's store reads of any key since then.
 */
async function cachedOnBoth(
  { a, b }: { a: Instance; b: Instance },
  input: { type?: 'public' | 'secret'; scopes?: string[] } = {},
  requirements: VerifyRequirements = {},
) {
  const org = uniqueOrganization();
  const created = await a.keyward.createKey(org, {
    name: 'Shared',
    type: input.type ?? 'secret',
    scopes: input.scopes,
  });
  expect(await a.keyward.verify(created.token, requirements)).toMatchObject({ valid: true });
  const spy = vi.spyOn(b.store, 'findByHash');
  const before = spy.mock.calls.length;
  expect(await b.keyward.verify(created.token, requirements)).toMatchObject({ valid: true });
  expect(await b.keyward.verify(created.token, requirements)).toMatchObject({ valid: true });
  expect(spy.mock.calls.length - before, 'B answers from its cache').toBe(1);
  const cachedAt = spy.mock.calls.length;
  return {
    org,
    id: created.key.id,
    token: created.token,
    lookupsOnB: () => spy.mock.calls.length - cachedAt,
  };
}

/** Polls B every `intervalMs` until it refuses `token` with `code`; resolves with the ms it took, or `null`. */
function refusal(
  b: Instance,
  token: string,
  code: VerifyFailureCode,
  { requirements = {}, timeoutMs = BOUND_MS, intervalMs = 20 } = {} as {
    requirements?: VerifyRequirements;
    timeoutMs?: number;
    intervalMs?: number;
  },
): Promise<number | null> {
  return pollUntil(
    async () => {
      const result = await b.keyward.verify(token, requirements);
      return !result.valid && result.code === code;
    },
    { timeoutMs, intervalMs },
  );
}

describe.each(MONGOOSE_MAJORS)('Changes made on instance A reach instance B with %s', (label, mongoose) => {
  it('refuses a key deleted through A on B within the bound', async () => {
    const pair = await twoInstances(mongoose);
    const { org, id, token, lookupsOnB } = await cachedOnBoth(pair);
    await pair.a.keyward.deleteKey(org, id);
    expect(await pair.a.keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    const elapsed = await refusal(pair.b, token, 'invalid_api_key');
    console.log(`[change-feed] ${label}: B refused a deleted key after ${ms(elapsed ?? Number.NaN)} ms`);
    expect(elapsed, 'B refused the deleted key within 3 s').not.toBeNull();
    expect(lookupsOnB(), 'B read the key again after the change').toBeGreaterThan(0);
  });

  it('refuses a key disabled through A on B within the bound', async () => {
    const pair = await twoInstances(mongoose);
    const { org, id, token } = await cachedOnBoth(pair);
    await pair.a.keyward.updateKey(org, id, { disabled: true });
    expect(await pair.a.keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
    expect(await refusal(pair.b, token, 'disabled_api_key')).not.toBeNull();
  });

  it('refuses a scope removed through A on B within the bound', async () => {
    const pair = await twoInstances(mongoose);
    const requirements = { scopes: ['a:write'] };
    const { org, id, token } = await cachedOnBoth(pair, { scopes: SCOPES }, requirements);
    await pair.a.keyward.updateKey(org, id, { scopes: ['a:read'] });
    expect(await refusal(pair.b, token, 'insufficient_scope', { requirements })).not.toBeNull();
    // The scope that is left still works on B.
    expect(await pair.b.keyward.verify(token, { scopes: ['a:read'] })).toMatchObject({ valid: true });
  });

  it('refuses on B within the bound of the new expiry a key A gave an expiry 100 ms ahead', async () => {
    const pair = await twoInstances(mongoose);
    // B caches the key with no expiry: only the change reaching B can make it refuse within the minute.
    const { org, id, token } = await cachedOnBoth(pair);
    const expiresAt = Date.now() + 100;
    await pair.a.keyward.updateKey(org, id, { expiresAt: new Date(expiresAt) });
    const elapsed = await pollUntil(
      async () => {
        const result = await pair.b.keyward.verify(token);
        return !result.valid && result.code === 'expired_api_key';
      },
      { timeoutMs: expiresAt + BOUND_MS - Date.now(), intervalMs: 20 },
    );
    expect(elapsed, 'B refused the expired key within 3 s of its expiry').not.toBeNull();
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
  });
});

describe('Change feed', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];

  it('propagates a deletion with a shorter poll period', async () => {
    const pair = await twoInstances(mongoose, { pollIntervalMs: 100 });
    const { org, id, token } = await cachedOnBoth(pair);
    await pair.a.keyward.deleteKey(org, id);
    expect(await refusal(pair.b, token, 'invalid_api_key')).not.toBeNull();
  });

  // The default suite checks the bound on 10 deletions started at random points of B's poll cycle; the
  // measurement over 100 (half a minute on FerretDB) runs with KEYWARD_SLOW=1, the real figure in bench/.
  const DELETIONS = SLOW ? 100 : 10;

  it(`propagates each of ${DELETIONS} deletions to B within the bound (printed: p50, p99, max)`, async () => {
    const pair = await twoInstances(mongoose);
    const org = uniqueOrganization();
    const keys: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < DELETIONS; i++) {
      const { key, token } = await pair.a.keyward.createKey(org, { name: `Key ${i}`, type: 'secret' });
      keys.push({ id: key.id, token });
    }
    for (const { token } of keys) expect(await pair.b.keyward.verify(token)).toMatchObject({ valid: true });

    const delays: number[] = [];
    for (const { id, token } of keys) {
      // Start each deletion at a random point of B's poll cycle, not right after the poll that saw the last one.
      await delay(random() * POLL_INTERVAL_MS);
      await pair.a.keyward.deleteKey(org, id);
      // A longer deadline than the bound, to measure a slow one instead of cutting it off.
      const elapsed = await refusal(pair.b, token, 'invalid_api_key', { timeoutMs: 5_000, intervalMs: 5 });
      delays.push(elapsed ?? Number.POSITIVE_INFINITY);
    }
    console.log(
      `[propagation] poll: p50 ${ms(percentile(delays, 50))} ms, p99 ${ms(percentile(delays, 99))} ms, max ${ms(Math.max(...delays))} ms over ${DELETIONS} deletions`,
    );
    // The real figure is measured by bench/ (bench:propagation); this asserts the generous bound only.
    expect(delays.filter((d) => d >= BOUND_MS)).toEqual([]);
  }, 60_000);
});

describe('A write that fails half-way', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];

  /**
   * A real server-side fault, no mock: a unique index on the change log's keyId admits one entry per key,
   * so a second entry for the key fails with a duplicate-key error.
   */
  async function oneEntryPerKey(pair: { a: Instance }, collection: string) {
    await pair.a.store.ensureIndexes();
    const connection = (await connect(mongoose)) as unknown as Connection;
    const log = connection.db?.collection(`${collection}_changes`);
    if (!log) throw new Error('the connection is not open');
    await log.createIndex({ keyId: 1 }, { unique: true, name: 'test_one_entry_per_key' });
    return log;
  }

  it('never lets another instance admit a deleted key beyond the bound when the change-log entry after the write fails', async () => {
    const collection = uniqueCollection();
    const a = await instance((await connect(mongoose)) as unknown as Connection, { collection });
    const b = await instance((await connect(mongoose)) as unknown as Connection, { collection });
    const pair = { a, b };
    await oneEntryPerKey(pair, collection);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { org, id, token } = await cachedOnBoth(pair);
      await delay(random() * POLL_INTERVAL_MS);
      // The entry before the write lands, the key is deleted, the entry after it collides: the call succeeds.
      await pair.a.keyward.deleteKey(org, id);
      expect(await pair.a.keyward.verify(token), 'A refuses it on the very next request').toEqual({
        valid: false,
        code: 'invalid_api_key',
      });
      const elapsed = await refusal(pair.b, token, 'invalid_api_key', { intervalMs: 5 });
      expect(elapsed, 'B refused the deleted key within 3 s').not.toBeNull();
      delays.push(elapsed ?? Number.POSITIVE_INFINITY);
      // And it stays refused: no answer read before the write landed outlives the settling second.
      await delay(1_200);
      expect(await pair.b.keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    }
    console.log(`[change-feed] half-failed deletions reached B in ${delays.map((d) => ms(d)).join(', ')} ms`);
  });

  it('changes nothing anywhere when the change-log entry before the write fails', async () => {
    const collection = uniqueCollection();
    const a = await instance((await connect(mongoose)) as unknown as Connection, { collection });
    const b = await instance((await connect(mongoose)) as unknown as Connection, { collection });
    const pair = { a, b };
    const log = await oneEntryPerKey(pair, collection);
    const { org, id, token } = await cachedOnBoth(pair);
    // The key's entry is taken in advance: the entry before the write collides and the write is not tried.
    await log.insertOne({ keyId: id, at: new Date(0) });
    await expect(pair.a.keyward.deleteKey(org, id)).rejects.toMatchObject({ code: 'key_store_unavailable' });
    expect(await pair.a.store.findById(org, id)).toMatchObject({ deletedAt: null, version: 0 });
    expect(await pair.a.keyward.verify(token)).toMatchObject({ valid: true });
    expect(await pair.b.keyward.verify(token)).toMatchObject({ valid: true });
  });
});

describe('Change log', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];

  it('deletes change entries older than 10 minutes and neither announces nor deletes the recent ones', async () => {
    const collection = uniqueCollection();
    const connection = (await connect(mongoose)) as unknown as Connection;
    const log = connection.db?.collection(`${collection}_changes`);
    if (!log) throw new Error('the connection is not open');
    const now = Date.now();
    await log.insertMany([
      { _id: new mongoose.Types.ObjectId(), keyId: 'key_old', at: new Date(now - 11 * 60_000) },
      { _id: new mongoose.Types.ObjectId(), keyId: 'key_recent', at: new Date(now - 60_000) },
    ] as never[]);
    const { store } = await instance(connection, { collection, pollIntervalMs: 50 });
    const announced: string[] = [];
    const stop = store.subscribe((event) => {
      if ('id' in event) announced.push(event.id);
    });
    try {
      const pruned = await pollUntil(async () => (await log.countDocuments({ keyId: 'key_old' })) === 0, {
        timeoutMs: 2_000,
        intervalMs: 50,
      });
      expect(pruned, 'the old entry was deleted').not.toBeNull();
      expect(await log.countDocuments({ keyId: 'key_recent' })).toBe(1);
      // Both are older than the poll's 10-second look-back: neither is announced.
      expect(announced).toEqual([]);
    } finally {
      stop();
    }
  });
});

// A measurement (about a minute on FerretDB, most of it inserting the keys): run it with KEYWARD_SLOW=1. The
// default suite keeps the bound itself (the tests above); this one shows it does not grow with the key count.
describe.skipIf(!SLOW)(
  'Change feed with many keys (KEYWARD_SLOW=1; skipped by default: a measurement)',
  () => {
    const [, mongoose] = MONGOOSE_MAJORS[1];

    it('propagates deletions within the bound with 20,000 keys present: a poll reads the change log, not the keys', async () => {
      const collection = uniqueCollection();
      const seed = (await connect(mongoose)) as unknown as Connection;
      const raw = seed.db?.collection(collection);
      if (!raw) throw new Error('the connection is not open');
      let started = performance.now();
      for (let from = 0; from < 20_000; from += 5_000) {
        const batch = Array.from({ length: 5_000 }, (_, i) =>
          toRawDocument(makeStoredKey({ organizationId: `org_${(from + i) % 100}` })),
        );
        await raw.insertMany(batch as never[], { ordered: false });
      }
      const inserted = performance.now() - started;
      expect(await raw.countDocuments()).toBe(20_000);
      // FerretDB scans for any filter but `_id` alone (the service's lists): a long timeout.
      const options = { collection, timeoutMs: 20_000 };
      const pair = {
        a: await instance((await connect(mongoose)) as unknown as Connection, options),
        b: await instance((await connect(mongoose)) as unknown as Connection, options),
      };
      const delays: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { org, id, token } = await cachedOnBoth(pair);
        const announced = recordAnnouncements(pair.b.store);
        await delay(random() * POLL_INTERVAL_MS);
        started = performance.now();
        await pair.a.keyward.deleteKey(org, id);
        const elapsed = await refusal(pair.b, token, 'invalid_api_key', { timeoutMs: 5_000, intervalMs: 5 });
        await announced.waitFor(id, 1_000);
        announced.stop();
        delays.push(elapsed ?? Number.POSITIVE_INFINITY);
      }
      console.log(
        `[change-feed] 20,000 keys (inserted in ${ms(inserted)} ms): 5 deletions reached B in p50 ${ms(percentile(delays, 50))} ms, max ${ms(Math.max(...delays))} ms`,
      );
      // Measured 1,210 ms once on a loaded machine against a 1 s assertion: the bound is 3 s, the figure is printed.
      expect(delays.filter((d) => d >= BOUND_MS)).toEqual([]);
    }, 180_000);
  },
);

describe('Change feed across a server restart', () => {
  const [, mongoose] = MONGOOSE_MAJORS[1];
  let database: RestartableDatabase | undefined;
  let skipped: string | undefined;
  const connections: Connection[] = [];
  beforeAll(async () => {
    const started = await startRestartableDatabase();
    if ('skipped' in started) skipped = started.skipped;
    else database = started;
  });
  afterAll(async () => {
    await Promise.all(connections.map((c) => c.close()));
    await database?.stop();
  });

  it('keeps propagating deletions after the server was paused and resumed', async (ctx) => {
    if (!database) {
      // MONGO_URL points at a server this process must not stop.
      console.warn(`[change-feed] skipped the restart test: ${skipped}`);
      return ctx.skip(skipped);
    }
    const collection = uniqueCollection();
    const open = async () => {
      const connection = (await mongoose
        .createConnection(database?.uriFor('kw_change_feed_restart') ?? '', {
          serverSelectionTimeoutMS: 1_000,
        })
        .asPromise()) as unknown as Connection;
      connections.push(connection);
      return connection;
    };
    const options = { collection, timeoutMs: 1_500 };
    const pair = { a: await instance(await open(), options), b: await instance(await open(), options) };
    const first = await cachedOnBoth(pair);
    const second = await cachedOnBoth(pair);

    await database.pause();
    try {
      // While the server is down B keeps serving what it cached.
      expect(await pair.b.keyward.verify(first.token)).toMatchObject({ valid: true });
    } finally {
      await database.resume();
    }

    // A's delete goes through as soon as A's driver has reconnected. An attempt that timed out on the client
    // may still have been written: then the next attempt finds the key gone (not_found), which is success.
    const reconnected = await pollUntil(
      () =>
        pair.a.keyward.deleteKey(first.org, first.id).then(
          () => true,
          (error: unknown) => (error as { code?: unknown }).code === 'not_found',
        ),
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(reconnected, 'A can write within 15 s of resume()').not.toBeNull();
    const afterFirst = await refusal(pair.b, first.token, 'invalid_api_key');
    expect(afterFirst, 'B refused the first deletion within 3 s of A writing it').not.toBeNull();

    // Then the feed works as before: a key cached again on B is refused within the bound of its deletion.
    expect(await pair.b.keyward.verify(second.token)).toMatchObject({ valid: true });
    const lookups = second.lookupsOnB();
    expect(await pair.b.keyward.verify(second.token)).toMatchObject({ valid: true });
    expect(second.lookupsOnB(), 'B answers from its cache again').toBe(lookups);
    await pair.a.keyward.deleteKey(second.org, second.id);
    const afterSecond = await refusal(pair.b, second.token, 'invalid_api_key');
    expect(afterSecond, 'B refused the second deletion within 3 s').not.toBeNull();
    console.log(
      `[change-feed] restart: A deleted a key ${ms(reconnected ?? Number.NaN)} ms after resume(); B refused it ${ms(afterFirst ?? Number.NaN)} ms later, and a second deletion ${ms(afterSecond ?? Number.NaN)} ms after it was made`,
    );
  }, 60_000);
});
