import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import { TEST_PEPPER } from '../testing/index.js';

const service = (maxKeysPerOrganization?: number) =>
  createKeyward({
    store: new MemoryKeyStore(),
    scopes: ['a'],
    pepper: TEST_PEPPER,
    clock: () => Date.parse('2030-01-01T00:00:00Z'),
    ...(maxKeysPerOrganization !== undefined && { maxKeysPerOrganization }),
  });

const legacy = (n: number) => `legacy_${String(n).padStart(32, '0')}`;

describe('maxKeysPerOrganization', () => {
  it('refuses a create beyond the cap with 409 conflict; a deleted key frees room; other organizations are apart', async () => {
    const keyward = service(2);
    const first = await keyward.createKey('org', { name: 'A', type: 'secret' });
    await keyward.createKey('org', { name: 'B', type: 'secret' });
    await expect(keyward.createKey('org', { name: 'C', type: 'secret' })).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
      message: expect.stringContaining('2 API keys'),
    });
    expect((await keyward.listKeys('org')).keys).toHaveLength(2);
    await keyward.createKey('other', { name: 'C', type: 'secret' });
    await keyward.deleteKey('org', first.key.id);
    await keyward.createKey('org', { name: 'C', type: 'secret' });
  });

  it('imports up to the cap and refuses the rest, row by row', async () => {
    const keyward = service(2);
    await keyward.importKey('org', { token: legacy(1), name: 'One', type: 'secret' });
    const results = await keyward.importKeys('org', [
      { token: legacy(2), name: 'Two', type: 'secret' },
      { token: legacy(3), name: 'Three', type: 'secret' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['imported', 'refused']);
    await expect(
      keyward.importKey('org', { token: legacy(4), name: 'Four', type: 'secret' }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });

  it('defaults to 1,000 and refuses a wrong option at start-up', async () => {
    expect(() => service(0)).toThrow(TypeError);
    expect(() => service(1.5)).toThrow(TypeError);
    const keyward = service();
    const store = new MemoryKeyStore();
    expect(await store.countKeys('org')).toBe(0);
    await keyward.createKey('org', { name: 'A', type: 'secret' });
  });
});
