import { createKeyward, KeyStoreUnavailableError } from '@keyward/core';
import { DuplicateKeyError } from '@keyward/core/store';
import { makeStoredKey, TEST_PEPPER } from '@keyward/core/testing';
import { type RestartableDatabase, startRestartableDatabase } from '@keyward/test-db';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE } from './test-connections.js';
import { everythingShownBy, ms, pollUntil, uniqueCollection, uniqueOrganization } from './test-helpers.js';

const TIMEOUT_MS = 1_500;
// A correctness bound on the timeoutMs option (timer and event-loop slack), not a speed benchmark.
// Generous (3x the timeout): it proves calls end instead of hanging, not how fast a loaded machine is.
const BOUND_MS = TIMEOUT_MS * 3;

let database: RestartableDatabase | undefined;
let skipped: string | undefined;

beforeAll(async () => {
  const started = await startRestartableDatabase();
  if ('skipped' in started) skipped = started.skipped;
  else database = started;
});
afterAll(async () => {
  await database?.stop();
});

/** Runs `call`, expecting it to reject; resolves with the error and how long it took. */
async function failure(call: () => Promise<unknown>): Promise<{ error: unknown; elapsed: number }> {
  const start = performance.now();
  try {
    await call();
  } catch (error) {
    return { error, elapsed: performance.now() - start };
  }
  throw new Error('expected the call to fail while the server is down');
}

describe.each(MONGOOSE_MAJORS)('MongoKeyStore during a server outage with %s', (label, mongoose) => {
  it('fails each call with KeyStoreUnavailableError within timeoutMs, serves cached keys, and recovers with the data kept', async (ctx) => {
    if (!database) {
      // MONGO_URL points at a server this process must not stop.
      console.warn(`[outage] skipped: ${skipped}`);
      return ctx.skip(skipped);
    }
    const connection = (await mongoose
      .createConnection(database.uriFor(`kw_outage_${label.replace(/\W/g, '')}`), {
        serverSelectionTimeoutMS: 1_000,
      })
      .asPromise()) as unknown as Connection;
    const collection = uniqueCollection();
    const store = new MongoKeyStore({ connection, collection, timeoutMs: TIMEOUT_MS });
    const options = { pepper: TEST_PEPPER, scopes: ['a:read'], publicScopes: ['a:read'] };
    const keyward = createKeyward({ store, ...options });
    // Before the outage and after it, what is set up and checked goes through a second store on the same
    // collection, a patient one (PATIENT_STORE): on a loaded machine a healthy call can outlive 1.5 s, and
    // this test is about calls during the outage (each bounded), not about healthy ones.
    const patient = new MongoKeyStore({ connection, collection, ...PATIENT_STORE });
    const setUp = createKeyward({ store: patient, ...options });
    /** A call of `store`'s tried again while it times out (reads, and writes that cannot apply twice). */
    const eventually = async <T>(read: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await read();
        } catch (error) {
          if (!(error instanceof KeyStoreUnavailableError) || attempt === 10) throw error;
        }
      }
    };
    try {
      const org = uniqueOrganization();
      await store.feedReady();
      const cached = await setUp.createKey(org, { name: 'Cached', type: 'secret' });
      const uncached = await setUp.createKey(org, { name: 'Uncached', type: 'public' });
      const stored = await patient.findById(org, uncached.key.id);
      expect(stored?.token).toBe(uncached.token);
      // Into keyward's cache: a verify that could not reach the store says so and caches nothing.
      for (let attempt = 1; attempt <= 10; attempt++) {
        const result = await keyward.verify(cached.token);
        if (result.valid || result.code !== 'key_store_unavailable') break;
      }
      expect(await keyward.verify(cached.token)).toMatchObject({ valid: true });
      expect(await eventually(() => store.list(org))).toHaveLength(2);

      await database.pause();

      const timings: Record<string, number> = {};
      const calls: Record<string, () => Promise<unknown>> = {
        findByHash: () => store.findByHash(stored?.hash ?? ''),
        insert: () => store.insert(makeStoredKey({ organizationId: org, type: 'public' })),
        list: () => store.list(org),
        update: () => store.update(org, cached.key.id, { name: 'During the outage' }),
      };
      for (const [name, call] of Object.entries(calls)) {
        const { error, elapsed } = await failure(call);
        timings[name] = elapsed;
        expect(error, name).toBeInstanceOf(KeyStoreUnavailableError);
        expect(elapsed, name).toBeLessThan(BOUND_MS);
        const shown = everythingShownBy(error);
        for (const secret of [cached.token, uncached.token, stored?.hash ?? ''])
          expect(shown).not.toContain(secret);
      }

      let start = performance.now();
      expect(await keyward.verify(uncached.token)).toEqual({ valid: false, code: 'key_store_unavailable' });
      timings['verify (uncached)'] = performance.now() - start;
      expect(timings['verify (uncached)']).toBeLessThan(BOUND_MS);
      start = performance.now();
      expect(await keyward.verify(cached.token)).toMatchObject({ valid: true, key: { id: cached.key.id } });
      timings['verify (cached)'] = performance.now() - start;

      await database.resume();
      // The driver reconnects by itself; wait for it with a deadline.
      const back = await pollUntil(
        () =>
          store.findByHash(stored?.hash ?? '').then(
            (key) => key?.id === uncached.key.id,
            () => false,
          ),
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      expect(back, 'the store answers again within 15 s of resume()').not.toBeNull();
      console.log(
        `[outage] ${label}: ${Object.entries(timings)
          .map(([name, elapsed]) => `${name} ${ms(elapsed)} ms`)
          .join(', ')}; answering again ${ms(back ?? Number.NaN)} ms after resume()`,
      );

      // The data is still there and every call works again. A write that timed out is tried again in a
      // way that cannot apply it twice: the same name, the same key (a duplicate means the first landed).
      expect((await eventually(() => store.list(org))).map((k) => k.id).sort()).toEqual(
        [cached.key.id, uncached.key.id].sort(),
      );
      const renamed = await eventually(() => store.update(org, cached.key.id, { name: 'After the outage' }));
      expect(renamed?.name).toBe('After the outage');
      const extra = makeStoredKey({ organizationId: org });
      await eventually(() =>
        store.insert(extra).catch((error: unknown) => {
          if (!(error instanceof DuplicateKeyError)) throw error;
        }),
      );
      expect(await eventually(() => store.list(org))).toHaveLength(3);
      expect(await keyward.verify(uncached.token)).toMatchObject({
        valid: true,
        key: { id: uncached.key.id },
      });
    } finally {
      await database.resume();
      await keyward.close();
      await setUp.close();
      await store.close();
      await patient.close();
      await connection.close();
    }
  });
});
