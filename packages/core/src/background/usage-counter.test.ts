import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../store/memory-store.js';
import { testKeyward } from '../testing/fixtures.js';

const ORG = 'org_counts';
const T0 = Date.parse('2030-01-01T00:00:00Z');

/** Two services (two "instances") on one store and one clock. */
function twoInstances() {
  const store = new MemoryKeyStore();
  const a = testKeyward({ store, usage: { flushIntervalMs: 600_000 } });
  const b = testKeyward({ store, clock: a.clock.now, usage: { flushIntervalMs: 600_000 } });
  return { store, clock: a.clock, a: a.keyward, b: b.keyward };
}

describe('usage counts (docs/reference.md §9)', () => {
  it('counts every outcome of both instances exactly, after a flush, under its code', async () => {
    const { clock, a, b } = twoInstances();
    const { key, token } = await a.createKey(ORG, { name: 'Busy', type: 'public' });
    for (let i = 0; i < 3; i++) expect((await a.verify(token)).valid).toBe(true);
    for (let i = 0; i < 2; i++) expect((await b.verify(token)).valid).toBe(true);
    expect((await a.verify(token, { type: 'secret' })).valid).toBe(false);
    expect((await b.verify(token, { scopes: ['snippets:write'] })).valid).toBe(false);
    // The caller decides after verify: counted once, with the final outcome.
    const deferred = b.verifyCached(token, undefined, { count: 'refusals' });
    expect(deferred?.valid).toBe(true);
    b.recordOutcome(key, 'rate_limited');
    const admitted = await a.verify(token, undefined, { count: 'refusals' });
    expect(admitted.valid).toBe(true);
    a.recordOutcome(key, 'admitted');
    clock.advance(60_000);
    await a.updateKey(ORG, key.id, { disabled: true });
    expect((await a.verify(token)).valid).toBe(false);
    expect((await b.verify(token)).valid).toBe(false);
    // Not a key: nothing counted.
    await a.verify('kw_pub_garbage');
    await Promise.all([a.flushUsage(), b.flushUsage()]);

    const minutes = await a.keyUsage(ORG, key.id, {
      granularity: 'minute',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-01T00:03:00Z',
    });
    expect(minutes).toEqual({
      granularity: 'minute',
      data: [
        {
          at: '2030-01-01T00:00:00.000Z',
          admitted: 6,
          refused: { secret_key_required: 1, insufficient_scope: 1, rate_limited: 1 },
        },
        { at: '2030-01-01T00:01:00.000Z', admitted: 0, refused: { disabled_api_key: 2 } },
        { at: '2030-01-01T00:02:00.000Z', admitted: 0, refused: {} },
      ],
    });
    const day = await b.keyUsage(ORG, key.id, { granularity: 'day', from: '2030-01-01T00:00:00Z' });
    expect(day?.data).toEqual([
      {
        at: '2030-01-01T00:00:00.000Z',
        admitted: 6,
        refused: { secret_key_required: 1, insufficient_scope: 1, rate_limited: 1, disabled_api_key: 2 },
      },
    ]);
    const org = await b.usage(ORG, {
      granularity: 'hour',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-01T02:00:00Z',
    });
    expect(org.data.map((d) => d.admitted)).toEqual([6, 0]);
    expect(org.topKeys).toEqual([{ id: key.id, ...day?.data[0], at: undefined }].map(({ at, ...k }) => k));
  });

  it('keeps writing running totals: a second flush replaces the first, across minutes, hours and days', async () => {
    const { clock, a } = twoInstances();
    const { key, token } = await a.createKey(ORG, { name: 'Long', type: 'public' });
    clock.set(T0 + 23 * 3_600_000 + 59 * 60_000);
    await a.verify(token);
    await a.flushUsage();
    await a.verify(token);
    await a.flushUsage();
    clock.advance(60_000); // the next day
    await a.verify(token);
    await a.flushUsage();
    const hours = await a.keyUsage(ORG, key.id, {
      granularity: 'hour',
      from: '2030-01-01T22:00:00Z',
      to: '2030-01-02T01:00:00Z',
    });
    expect(hours?.data.map((d) => d.admitted)).toEqual([0, 2, 1]);
    const days = await a.keyUsage(ORG, key.id, {
      granularity: 'day',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-03T00:00:00Z',
    });
    expect(days?.data.map((d) => d.admitted)).toEqual([2, 1]);
  });

  it('loses at most the unflushed interval of an instance that crashes', async () => {
    const { a, b } = twoInstances();
    const { key, token } = await a.createKey(ORG, { name: 'Crash', type: 'public' });
    for (let i = 0; i < 4; i++) await a.verify(token);
    for (let i = 0; i < 3; i++) await b.verify(token);
    await b.flushUsage();
    await b.verify(token); // counted after b's last flush, then b "crashes" (never flushes again)
    await a.flushUsage();
    const usage = await a.keyUsage(ORG, key.id, {
      granularity: 'minute',
      from: '2030-01-01T00:00:00Z',
      to: '2030-01-01T00:01:00Z',
    });
    expect(usage?.data[0]?.admitted).toBe(7);
  });

  it("answers null for another organization's key, and 400s for a bad range", async () => {
    const { a } = twoInstances();
    const { key } = await a.createKey(ORG, { name: 'Mine', type: 'public' });
    expect(await a.keyUsage('org_other', key.id)).toBeNull();
    expect(await a.keyUsage(ORG, 'key_missing')).toBeNull();
    await expect(a.usage(ORG, { granularity: 'minute', from: '2029-01-01T00:00:00Z' })).rejects.toMatchObject(
      {
        code: 'validation_error',
      },
    );
    await expect(
      a.usage(ORG, { from: '2030-01-02T00:00:00Z', to: '2030-01-01T00:00:00Z' }),
    ).rejects.toMatchObject({ code: 'validation_error' });
    await expect(a.usage(ORG, { granularity: 'week' as never })).rejects.toMatchObject({
      code: 'validation_error',
    });
    // Defaults: 24 hourly buckets up to and including the current hour, all empty.
    const usage = await a.usage(ORG);
    expect(usage.data).toHaveLength(24);
    expect(usage.data.at(-1)).toEqual({ at: '2030-01-01T00:00:00.000Z', admitted: 0, refused: {} });
  });

  it('counts nothing and answers empty buckets when the store keeps no usage', async () => {
    const store = new MemoryKeyStore();
    Object.assign(store, { recordOutcomes: undefined, readUsage: undefined });
    const { keyward } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Plain', type: 'public' });
    await keyward.verify(token);
    await keyward.flushUsage();
    expect(
      (await keyward.keyUsage(ORG, key.id, { granularity: 'day' }))?.data.every((d) => d.admitted === 0),
    ).toBe(true);
  });
});
