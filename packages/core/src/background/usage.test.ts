import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyStore, UsageEntry } from '../store/store.js';
import { testKeyward } from '../testing/fixtures.js';

const ORG = 'org_usage';

function recordingStore() {
  const inner = new MemoryKeyStore();
  const writes: Array<Array<{ id: string; at: Date }>> = [];
  const store: KeyStore = Object.assign(inner, {
    recordUsage: async (entries: ReadonlyArray<UsageEntry>) => {
      writes.push([...entries]);
      await MemoryKeyStore.prototype.recordUsage.call(inner, entries);
    },
  });
  return { store, writes };
}

describe('last-used tracking', () => {
  it('writes once for 1,000 verifications of one key within a minute', async () => {
    const { store, writes } = recordingStore();
    const { keyward, clock } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Busy', type: 'secret' });
    const firstUse = clock.now();
    for (let i = 0; i < 1_000; i++) {
      expect((await keyward.verify(token)).valid).toBe(true);
      clock.advance(59);
    }
    await keyward.flushUsage();
    expect(writes).toEqual([
      [{ id: key.id, hash: expect.stringMatching(/^[0-9a-f]{64}$/), at: new Date(firstUse) }],
    ]);
    expect((await keyward.getKey(ORG, key.id))?.lastUsedAt).toEqual(new Date(firstUse));
  });

  it('writes again once a minute has passed since the last write', async () => {
    const { store, writes } = recordingStore();
    const { keyward, clock } = testKeyward({ store });
    const { key, token } = await keyward.createKey(ORG, { name: 'Busy', type: 'secret' });
    const start = clock.now();
    await keyward.verify(token);
    await keyward.flushUsage();
    clock.advance(59_999);
    await keyward.verify(token);
    await keyward.flushUsage();
    clock.advance(1);
    await keyward.verify(token);
    await keyward.flushUsage();
    expect(writes.flat().map((w) => w.at.getTime() - start)).toEqual([0, 60_000]);
    expect((await keyward.getKey(ORG, key.id))?.lastUsedAt?.getTime()).toBe(clock.now());
  });

  it('batches the first uses of many keys into one write', async () => {
    const { store, writes } = recordingStore();
    const { keyward } = testKeyward({ store });
    const tokens = await Promise.all(
      Array.from(
        { length: 25 },
        async (_, i) => (await keyward.createKey(ORG, { name: `K${i}`, type: 'secret' })).token,
      ),
    );
    await Promise.all(tokens.map((t) => keyward.verify(t)));
    await keyward.flushUsage();
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(25);
  });

  it('does not record refused verifications', async () => {
    const { store, writes } = recordingStore();
    const { keyward } = testKeyward({ store });
    const { token } = await keyward.createKey(ORG, {
      name: 'Reader',
      type: 'secret',
      scopes: ['snippets:read'],
    });
    await keyward.verify(token, { scopes: ['snippets:write'] });
    await keyward.flushUsage();
    expect(writes).toEqual([]);
  });

  it('never makes verify wait for the write, and survives a failing write', async () => {
    const inner = new MemoryKeyStore();
    let attempts = 0;
    const store: KeyStore = Object.assign(inner, {
      recordUsage: () => {
        attempts++;
        return new Promise<void>((_, reject) => setTimeout(() => reject(new Error('down')), 50));
      },
    });
    const { keyward } = testKeyward({ store });
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    expect((await keyward.verify(token)).valid).toBe(true);
    await expect(keyward.flushUsage()).resolves.toBeUndefined();
    expect(attempts).toBe(1);
  });
});
