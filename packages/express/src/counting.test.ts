import type { KeyPolicy } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { MemoryCounting } from './counting.js';
import { createKeyLimiter } from './key-limiter.js';

const T0 = Date.parse('2030-06-01T00:00:00Z');
const minute = { counter: 'limit:k:slot0', limit: 3, windowSeconds: 60 };
const day = { counter: 'limit:k:slot1', limit: 100, windowSeconds: 86_400 };
const hitsOf = (counts: readonly { hits: number }[]) => counts.map((c) => c.hits);

describe('MemoryCounting (the default counting of createKeyLimiter)', () => {
  it('counts every window of a request at once, synchronously, each with the end of its window', () => {
    const counting = new MemoryCounting();
    const counts = counting.count([minute, day], T0);
    expect(counts).not.toBeInstanceOf(Promise);
    expect(counts.map((c) => ({ ...c }))).toEqual([
      { hits: 1, resetAt: T0 + 60_000 },
      { hits: 1, resetAt: T0 + 86_400_000 },
    ]);
    expect(hitsOf(counting.count([minute, day], T0 + 1))).toEqual([2, 2]);
  });

  it('gives a refused request back to the windows it did not exceed (only admitted requests count)', () => {
    const counting = new MemoryCounting();
    for (let i = 0; i < 3; i++) counting.count([minute, day], T0);
    // The 4th and 5th are over the minute's limit: answered as counted, then given back to the day.
    expect(hitsOf(counting.count([minute, day], T0))).toEqual([4, 4]);
    expect(hitsOf(counting.count([minute, day], T0))).toEqual([5, 4]);
    // A new minute: the day holds the 3 admitted requests only.
    expect(hitsOf(counting.count([minute, day], T0 + 60_000))).toEqual([1, 4]);
  });

  it('starts a new window when the old one ends, and carries a count on when its window changes', () => {
    const counting = new MemoryCounting();
    counting.count([minute], T0);
    counting.count([minute], T0 + 59_999);
    expect(hitsOf(counting.count([minute], T0 + 60_000))).toEqual([1]);
    // The same counter with a longer window: the open one (opened at T0 + 60 s for 60 s) carries on.
    const longer = { ...minute, windowSeconds: 3_600 };
    const carried = counting.count([longer], T0 + 90_000)[0];
    expect(carried).toEqual({ hits: 2, resetAt: T0 + 120_000 });
    expect(counting.count([longer], T0 + 120_000)[0]).toEqual({ hits: 1, resetAt: T0 + 120_000 + 3_600_000 });
  });

  it('forgets ended windows at its next sweep, a minute on', () => {
    const counting = new MemoryCounting();
    counting.count([{ counter: 'limit:a:slot0', limit: 1, windowSeconds: 1 }], T0);
    counting.count([day], T0);
    const size = () => counting.size;
    expect(size()).toBe(2);
    // Ended but not yet swept (the sweep runs a minute after the last one), then swept.
    counting.count([day], T0 + 2_000);
    expect(size()).toBe(2);
    counting.count([day], T0 + 60_000);
    expect(size()).toBe(1);
  });
});

const policy = (limits: KeyPolicy['limits']): KeyPolicy => ({
  lineageId: 'k',
  limits,
  allowedOrigins: [],
  allowedIps: [],
  allowsOrigin: () => true,
  allowsIp: () => true,
});

describe('createKeyLimiter counting', () => {
  it('answers consume and noteInvalidKey without a promise on the default (in-process) counting', () => {
    const limiter = createKeyLimiter({ invalidKeyThrottle: { limit: 2, windowSeconds: 60 } });
    const admitted = limiter.consume(policy([minute, day]), undefined, 'api');
    expect(admitted).toBeNull();
    for (let i = 0; i < 2; i++) limiter.consume(policy([minute, day]), undefined, 'api');
    const refused = limiter.consume(policy([minute, day]), undefined, 'api');
    expect(refused).not.toBeInstanceOf(Promise);
    expect(refused).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(limiter.noteInvalidKey('203.0.113.7')).toBe(0);
    // The limit-th refusal is answered as usual; the address is throttled from the next request.
    expect(limiter.noteInvalidKey('203.0.113.7')).toBe(0);
    expect(limiter.throttledUntil('203.0.113.7')).toBeGreaterThan(Date.now());
  });

  it('answers a promise on the redis option, one sendCommand per consume', async () => {
    const sent: string[][] = [];
    const limiter = createKeyLimiter({
      redis: {
        sendCommand: async (...args: string[]) => {
          sent.push(args);
          return [1, 60_000, 1, 86_400_000];
        },
      },
    });
    const answer = limiter.consume(policy([minute, day]), undefined, 'api');
    expect(answer).toBeInstanceOf(Promise);
    expect(await answer).toBeNull();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[0]).toBe('EVALSHA');
    expect(sent[0]?.slice(2)).toEqual([
      '2',
      'kw:limit:k:slot0',
      'kw:limit:k:slot1',
      '60000',
      '3',
      '86400000',
      '100',
    ]);
  });

  it('applies onStoreError when the script answers something else than counts', async () => {
    const sendCommand = async () => 'OK';
    expect(
      await createKeyLimiter({ redis: { sendCommand } }).consume(policy([minute]), undefined, 'api'),
    ).toBeNull();
    expect(
      await createKeyLimiter({ redis: { sendCommand }, onStoreError: 'closed' }).consume(
        policy([minute]),
        undefined,
        'api',
      ),
    ).toMatchObject({ code: 'key_store_unavailable', status: 503 });
  });

  it.each([
    ['redis and store together', { redis: { sendCommand: async () => [] }, store: () => ({}) }],
    ['redis without sendCommand', { redis: { prefix: 'kw:' } }],
    ['redis that is not an object', { redis: 'redis://localhost' }],
    ['an unknown redis option', { redis: { sendCommand: async () => [], url: 'redis://localhost' } }],
    ['a redis prefix that is not a string', { redis: { sendCommand: async () => [], prefix: 7 } }],
  ])('throws a TypeError at start-up for %s', (_case, options) => {
    expect(() => createKeyLimiter(options as never)).toThrow(TypeError);
  });
});
