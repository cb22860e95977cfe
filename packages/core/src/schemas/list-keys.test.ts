import { describe, expect, it } from 'vitest';
import { isKeywardError } from '../shared/errors.js';
import { testKeyward } from '../testing/fixtures.js';
import { encodeKeyListCursor } from './schemas.js';

const ORG = 'org_list';

async function detailsOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isKeywardError(error)) throw new Error(`expected a KeywardError, got ${String(error)}`);
  return { code: error.code, details: error.details };
}

describe('listing keys page by page', () => {
  it('answers 50 keys by default with a cursor to the rest, and each key once across pages', async () => {
    const { keyward, clock } = testKeyward();
    const created: string[] = [];
    for (let i = 0; i < 120; i++) {
      created.push((await keyward.createKey(ORG, { name: `Key ${i}`, type: 'secret' })).key.id);
      if (i % 7 === 0) clock.advance(1000);
    }
    const first = await keyward.listKeys(ORG);
    expect(first.keys).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    const seen = [...first.keys.map((k) => k.id)];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await keyward.listKeys(ORG, { cursor, limit: '30' });
      seen.push(...page.keys.map((k) => k.id));
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen)).toEqual(new Set(created));
  });

  it('answers nextCursor null when the page holds the last key', async () => {
    const { keyward } = testKeyward();
    for (let i = 0; i < 3; i++) await keyward.createKey(ORG, { name: `K${i}`, type: 'secret' });
    expect((await keyward.listKeys(ORG, { limit: 3 })).nextCursor).toBeNull();
    expect((await keyward.listKeys(ORG, { limit: 2 })).nextCursor).not.toBeNull();
  });

  it('refuses a bad limit, a forged cursor, an unknown filter or field with validation_error', async () => {
    const { keyward } = testKeyward();
    const bad = [
      { limit: 0 },
      { limit: 101 },
      { limit: '1e1' },
      { limit: '' },
      { limit: 2.5 },
      { cursor: 'not a cursor' },
      { cursor: '' },
      { cursor: Buffer.from('{"t":1,"id":"nope"}').toString('base64url') },
      { cursor: Buffer.from('{"t":-1,"id":"key_0123456789ABCDEFGHIJ"}').toString('base64url') },
      { cursor: Buffer.from('[1,2]').toString('base64url') },
      { cursor: Buffer.from('{"t":1,"id":"key_0123456789ABCDEFGHIJ","x":1}').toString('base64url') },
      { cursor: 'x'.repeat(5000) },
      { status: 'gone' },
      { type: 'private' },
      { q: ['a', 'b'] },
      { sort: 'name' },
    ];
    for (const query of bad) {
      const { code, details } = await detailsOf(keyward.listKeys(ORG, query as never));
      expect(code, JSON.stringify(query)).toBe('validation_error');
      expect(details?.length).toBeGreaterThan(0);
    }
    await expect(keyward.listKeys(ORG, null as never)).rejects.toSatisfy(isKeywardError);
  });

  it('accepts the cursor it made, also for a key deleted since', async () => {
    const { keyward } = testKeyward();
    const a = await keyward.createKey(ORG, { name: 'A', type: 'secret' });
    await keyward.deleteKey(ORG, a.key.id);
    const cursor = encodeKeyListCursor({ createdAt: a.key.createdAt, id: a.key.id });
    expect(await keyward.listKeys(ORG, { cursor })).toEqual({ keys: [], nextCursor: null });
  });

  it('leaves rolled keys whose grace period has ended out, unless a status filter asks for them', async () => {
    const { keyward, clock } = testKeyward();
    const old = await keyward.createKey(ORG, { name: 'Server', type: 'secret' });
    clock.advance(1000);
    const rolled = await keyward.rollKey(ORG, old.key.id, { gracePeriodSeconds: 60 });
    expect((await keyward.listKeys(ORG)).keys.map((k) => k.id)).toEqual([rolled.key.id, old.key.id]);
    clock.advance(60_000);
    expect((await keyward.listKeys(ORG)).keys.map((k) => k.id)).toEqual([rolled.key.id]);
    const expired = await keyward.listKeys(ORG, { status: 'expired' });
    expect(expired.keys.map((k) => [k.id, k.status])).toEqual([[old.key.id, 'expired']]);
  });

  it('searches by name and by the last 4 characters, and filters by type and status', async () => {
    const { keyward, clock } = testKeyward();
    const ci = await keyward.createKey(ORG, { name: 'Deploy CI', type: 'secret' });
    clock.advance(1000);
    const web = await keyward.createKey(ORG, { name: 'Website', type: 'public' });
    await keyward.updateKey(ORG, web.key.id, { disabled: true });
    const ids = async (query: object) => (await keyward.listKeys(ORG, query)).keys.map((k) => k.id);
    expect(await ids({ q: 'deploy' })).toEqual([ci.key.id]);
    expect(await ids({ q: ci.token.slice(-4) })).toContain(ci.key.id);
    expect(await ids({ q: '' })).toEqual([web.key.id, ci.key.id]);
    expect(await ids({ type: 'public' })).toEqual([web.key.id]);
    expect(await ids({ status: 'disabled' })).toEqual([web.key.id]);
    expect(await ids({ status: 'active' })).toEqual([ci.key.id]);
  });
});
