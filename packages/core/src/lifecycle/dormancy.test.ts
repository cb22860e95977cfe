import { describe, expect, it, vi } from 'vitest';
import { MemoryKeyStore } from '../store/memory-store.js';
import { describeDormancyScenarios } from '../testing/dormancy-conformance.js';
import { testKeyward } from '../testing/fixtures.js';
import { delegatingStore } from '../testing/index.js';
import { dormantSince, resolveDormancy, resolveSweepInterval } from './dormancy.js';

describeDormancyScenarios('MemoryKeyStore', { createStore: () => new MemoryKeyStore() });

describe('dormantAfterDays (docs/reference.md §11)', () => {
  it('takes one number for both types or one per type; anything else throws TypeError at start-up', () => {
    expect(resolveDormancy(undefined)).toEqual({ secret: null, public: null });
    expect(resolveDormancy(90)).toEqual({ secret: 90, public: 90 });
    expect(resolveDormancy({ public: 30 })).toEqual({ secret: null, public: 30 });
    for (const bad of [0, -1, 1.5, '90', null, { secrets: 1 }, { secret: 0 }, 36_501]) {
      expect(() => resolveDormancy(bad as never), JSON.stringify(bad)).toThrow(TypeError);
    }
    expect(() => testKeyward({ dormantAfterDays: 0 })).toThrow(/dormantAfterDays/);
  });

  it('dormancySweepIntervalMs defaults to an hour, takes false, and refuses other values', () => {
    expect(resolveSweepInterval(undefined)).toBe(3_600_000);
    expect(resolveSweepInterval(false)).toBe(false);
    expect(resolveSweepInterval(60_000)).toBe(60_000);
    for (const bad of [0, -5, 1.5, true, '1']) {
      expect(() => resolveSweepInterval(bad as never), String(bad)).toThrow(TypeError);
    }
  });

  it('the clock starts at the latest of creation, last change and last use', () => {
    const at = (iso: string) => new Date(iso);
    const key = { createdAt: at('2030-01-01'), updatedAt: at('2030-01-01'), lastUsedAt: null };
    expect(dormantSince(key)).toBe(Date.parse('2030-01-01'));
    expect(dormantSince({ ...key, lastUsedAt: at('2030-02-01') })).toBe(Date.parse('2030-02-01'));
    expect(dormantSince({ ...key, updatedAt: at('2030-03-01'), lastUsedAt: at('2030-02-01') })).toBe(
      Date.parse('2030-03-01'),
    );
  });

  it('without a policy the sweep does nothing, even on a store without scanKeys', async () => {
    const { keyward } = testKeyward({
      store: delegatingStore(new MemoryKeyStore(), { scanKeys: undefined }),
    });
    expect(await keyward.sweepDormantKeys()).toEqual({ checked: 0, warned: [], disabled: [] });
  });

  it('with a policy on a store without scanKeys, the sweep says so', async () => {
    const store = delegatingStore(new MemoryKeyStore(), { scanKeys: undefined });
    const { keyward } = testKeyward({ store, dormantAfterDays: 30, dormancySweepIntervalMs: false });
    await expect(keyward.sweepDormantKeys()).rejects.toThrow(/scanKeys/);
  });

  it('onEvent hears key.dormant_soon once however many sweeps see it, and the dormant disable', async () => {
    const heard: string[] = [];
    const { keyward, clock } = testKeyward({
      dormantAfterDays: 10,
      dormancySweepIntervalMs: false,
      onEvent: (event) => {
        if (event.type !== 'key.created') heard.push(`${event.type}:${event.reason}`);
      },
    });
    await keyward.createKey('org', { name: 'K', type: 'secret' });
    clock.advance(3 * 86_400_000);
    await keyward.sweepDormantKeys();
    await keyward.sweepDormantKeys();
    clock.advance(7 * 86_400_000);
    await keyward.sweepDormantKeys();
    expect(heard).toEqual(['key.dormant_soon:dormant', 'key.disabled:dormant']);
    await keyward.close();
  });

  it('each instance sweeps on its own every dormancySweepIntervalMs, and stops on close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { keyward, clock } = testKeyward({ dormantAfterDays: 10, dormancySweepIntervalMs: 60_000 });
      const { key } = await keyward.createKey('org', { name: 'Timed', type: 'secret' });
      clock.advance(3 * 86_400_000);
      await vi.advanceTimersByTimeAsync(60_000);
      expect((await keyward.listEvents('org', { type: 'key.dormant_soon' })).events).toHaveLength(1);
      clock.advance(7 * 86_400_000);
      await vi.advanceTimersByTimeAsync(60_000);
      await vi.waitFor(async () =>
        expect(await keyward.getKey('org', key.id)).toMatchObject({ disabled: true }),
      );
      await keyward.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
