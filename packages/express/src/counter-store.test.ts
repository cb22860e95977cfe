import { MemoryStore, type Options } from 'express-rate-limit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CounterMemoryStore } from './counter-store.js';

const DAY = 86_400_000;
const init = (store: MemoryStore, windowMs: number) => store.init({ windowMs } as Options);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('CounterMemoryStore', () => {
  it('answers each of several increments started together its own count (the base class answers the last)', async () => {
    const store = new CounterMemoryStore();
    init(store, 60_000);
    const counts = await Promise.all([store.increment('k'), store.increment('k'), store.increment('k')]);
    expect(counts.map((c) => c.totalHits)).toEqual([1, 2, 3]);
    // Why it exists: express-rate-limit's MemoryStore hands out its live record.
    const base = new MemoryStore();
    init(base, 60_000);
    const live = await Promise.all([base.increment('k'), base.increment('k'), base.increment('k')]);
    expect(live.map((c) => c.totalHits)).toEqual([3, 3, 3]);
    store.shutdown();
    base.shutdown();
  });

  it('sweeps a 31-day window at most every 2^31 - 1 ms, and keeps a count until its window ends', async () => {
    vi.useFakeTimers();
    const intervals = vi.spyOn(globalThis, 'setInterval');
    const store = new CounterMemoryStore();
    init(store, 31 * DAY);
    expect(Math.max(...intervals.mock.calls.map((call) => Number(call[1])))).toBeLessThanOrEqual(2 ** 31 - 1);
    // First counted just before the first sweep: its window runs to 24.85 + 31 days.
    vi.advanceTimersByTime(24.85 * DAY);
    expect((await store.increment('k')).totalHits).toBe(1);
    // Two sweeps later (49.7 days) the base class would have forgotten it; its window is still open.
    vi.advanceTimersByTime(24.9 * DAY);
    expect((await store.increment('k')).totalHits).toBe(2);
    // After the window: a new one.
    vi.advanceTimersByTime(7 * DAY);
    expect((await store.increment('k')).totalHits).toBe(1);
    store.shutdown();
  });
});
