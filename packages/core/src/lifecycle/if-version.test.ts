import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import { keyVersion, parseIfMatch } from '../schemas/serialize.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyChanges, UpdateOptions } from '../store/store.js';
import { TEST_PEPPER } from '../testing/index.js';

/** A memory store where, once armed, another writer renames the key just before the next guarded write. */
class RacingStore extends MemoryKeyStore {
  armed = false;
  override async update(organizationId: string, id: string, changes: KeyChanges, options?: UpdateOptions) {
    if (this.armed) {
      this.armed = false;
      await super.update(organizationId, id, { name: 'Theirs', updatedAt: new Date(0) });
    }
    return super.update(organizationId, id, changes, options);
  }
}

function service() {
  const store = new RacingStore();
  const keyward = createKeyward({
    store,
    scopes: ['a'],
    pepper: TEST_PEPPER,
    clock: () => 1_900_000_000_000,
  });
  return { store, keyward };
}

describe('ifVersion: the version check is the guarded write’s own condition', () => {
  it('updateKey: a change landing between the read and the write makes it 412, and it writes nothing', async () => {
    const { store, keyward } = service();
    const { key } = await keyward.createKey('org', { name: 'K', type: 'secret' });
    store.armed = true;
    await expect(
      keyward.updateKey('org', key.id, { name: 'Mine' }, undefined, { ifVersion: 0 }),
    ).rejects.toMatchObject({
      code: 'precondition_failed',
      status: 412,
    });
    expect((await keyward.getKey('org', key.id))?.name).toBe('Theirs');
  });

  it('rollKey and deleteKey: the same race is 412 and nothing is rolled or deleted', async () => {
    const { store, keyward } = service();
    const { key } = await keyward.createKey('org', { name: 'K', type: 'secret' });
    store.armed = true;
    await expect(keyward.rollKey('org', key.id, {}, undefined, { ifVersion: 0 })).rejects.toMatchObject({
      code: 'precondition_failed',
    });
    store.armed = true;
    await expect(keyward.deleteKey('org', key.id, undefined, { ifVersion: 1 })).rejects.toMatchObject({
      code: 'precondition_failed',
    });
    const after = await keyward.getKey('org', key.id);
    expect(after).toMatchObject({ status: 'active', replacedBy: null });
    expect((await keyward.listKeys('org')).keys).toHaveLength(1);
  });

  it('keyVersion names the version of an answered key; parseIfMatch reads tags back', async () => {
    const { keyward } = service();
    const { key } = await keyward.createKey('org', { name: 'K', type: 'secret' });
    expect(keyVersion(key)).toBe(0);
    const updated = await keyward.updateKey('org', key.id, { name: 'L' });
    expect(keyVersion(updated)).toBe(1);
    expect(keyVersion({ ...updated })).toBeUndefined();
    expect(parseIfMatch('"12-Ab_9-x"')).toBe(12);
    expect(parseIfMatch(undefined)).toBeUndefined();
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch(' "7" ')).toBe(7);
    expect(parseIfMatch('W/"7"')).toBe(-1);
    expect(parseIfMatch('"7", "8"')).toBe(-1);
  });
});
