import { describe, expect, it } from 'vitest';
import { createKeyward } from '../keyward.js';
import { MemoryKeyStore } from '../store/memory-store.js';

const PEPPER = 'idempotency-test-pepper-not-secret';
const NEW_PEPPER = 'idempotency-test-pepper-2-not-secret';

/** A memory store that keeps every answer it was asked to store. */
class SpyStore extends MemoryKeyStore {
  stored: string[] = [];
  override async completeIdempotency(id: string, claim: string, response: string) {
    this.stored.push(response);
    return super.completeIdempotency(id, claim, response);
  }
}

const service = (store: MemoryKeyStore, pepper: string | [string, ...string[]] | false = PEPPER) =>
  createKeyward({ store, scopes: ['a'], pepper, clock: () => Date.parse('2030-01-01T00:00:00Z') });

const create = (keyward: ReturnType<typeof service>, body = { name: 'CI', type: 'secret' as const }) =>
  keyward.idempotent('org', 'k1', { route: 'POST /', body }, async () => {
    const { key, token } = await keyward.createKey('org', body);
    return { id: key.id, token };
  });

describe('idempotent (Idempotency-Key)', () => {
  it('stores the answer encrypted (never the token in plaintext) and replays it with the token', async () => {
    const store = new SpyStore();
    const keyward = service(store);
    const first = await create(keyward);
    expect(store.stored).toHaveLength(1);
    expect(store.stored[0]).not.toContain(first.token);
    expect(store.stored[0]).not.toContain(first.id);
    expect(await create(keyward)).toEqual(first);
    // Another instance on the same store, after a pepper rotation, still reads it.
    expect(await create(service(store, [NEW_PEPPER, PEPPER]))).toEqual(first);
    await expect(create(service(store, NEW_PEPPER))).rejects.toMatchObject({ code: 'conflict' });
    expect(await store.list('org')).toHaveLength(1);
  });

  it('releases the claim when the work fails, so a retry runs it', async () => {
    const store = new MemoryKeyStore();
    const keyward = service(store);
    await expect(
      keyward.idempotent('org', 'k1', { a: 1 }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await keyward.idempotent('org', 'k1', { a: 1 }, async () => 'ran')).toBe('ran');
  });

  it('compares requests regardless of key order; the same key of another organization is separate', async () => {
    const keyward = service(new MemoryKeyStore());
    expect(await keyward.idempotent('org', 'k', { a: 1, b: 2 }, async () => 1)).toBe(1);
    expect(await keyward.idempotent('org', 'k', { b: 2, a: 1 }, async () => 2)).toBe(1);
    expect(await keyward.idempotent('org2', 'k', { a: 1, b: 2 }, async () => 3)).toBe(3);
  });

  it('refuses a malformed key, and any key without a pepper, with 400', async () => {
    const keyward = service(new MemoryKeyStore());
    for (const bad of ['', 'has space', 'x'.repeat(256), 'é']) {
      await expect(keyward.idempotent('org', bad, {}, async () => 1)).rejects.toMatchObject({
        code: 'validation_error',
      });
    }
    await expect(
      service(new MemoryKeyStore(), false).idempotent('org', 'k', {}, async () => 1),
    ).rejects.toMatchObject({ code: 'validation_error' });
  });
});
