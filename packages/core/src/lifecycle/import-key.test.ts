import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTokenHasher } from '../format/hash.js';
import { parseToken } from '../format/key-format.js';
import { sha256Hex } from '../format/pepper.js';
import { keySchema } from '../schemas/schemas.js';
import { serializeKey } from '../schemas/serialize.js';
import { KeywardError } from '../shared/errors.js';
import { log } from '../shared/logger.js';
import { MemoryKeyStore } from '../store/memory-store.js';
import type { KeyStore } from '../store/store.js';
import { TEST_PEPPER, testKeyward } from '../testing/fixtures.js';
import { delegatingStore } from '../testing/index.js';

const ORG = 'org_import';
const LEGACY = { pattern: /^sk_live_[0-9a-f]{32}$/ };
const legacyToken = () => `sk_live_${randomBytes(16).toString('hex')}`;

/** A real memory store that counts the reads by hash verify makes. */
function countingStore(inner: KeyStore = new MemoryKeyStore()) {
  const reads = { count: 0 };
  const store = delegatingStore(inner, {
    findByHash: (hash) => {
      reads.count++;
      return inner.findByHash(hash);
    },
  });
  return { store, reads };
}

async function refusal(promise: Promise<unknown>): Promise<KeywardError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof KeywardError)) throw new Error(`expected a KeywardError, got ${String(error)}`);
  return error;
}

describe('importKey', () => {
  it('imports a plaintext token: it verifies, shows legacy: true, and keeps only its hash', async () => {
    const { keyward, store } = testKeyward({ legacyTokens: LEGACY });
    const token = legacyToken();
    const key = await keyward.importKey(ORG, {
      token,
      name: 'Old CI',
      type: 'secret',
      scopes: ['snippets:read'],
    });
    expect(key).toMatchObject({
      legacy: true,
      status: 'active',
      scopes: ['snippets:read'],
      redactedKey: `…${token.slice(-4)}`,
    });
    expect(key.token).toBeUndefined();
    expect((await store.findById(ORG, key.id))?.hash).toBe(createTokenHasher(TEST_PEPPER)(token));
    expect(JSON.stringify(await store.list(ORG))).not.toContain(token);
    expect(await keyward.verify(token, { scopes: ['snippets:read'] })).toMatchObject({
      valid: true,
      key: { id: key.id, type: 'secret' },
    });
    // The wire Key says so too, and matches its schema.
    const wire = serializeKey(key);
    expect(wire.legacy).toBe(true);
    expect(keySchema.parse(wire)).toEqual(wire);
    expect(serializeKey((await keyward.createKey(ORG, { name: 'New', type: 'secret' })).key).legacy).toBe(
      false,
    );
  });

  it('stores a key imported with disabled: true disabled in its one write, never verifying', async () => {
    const inner = new MemoryKeyStore();
    const writes: string[] = [];
    const store = delegatingStore(inner, {
      insert: (key, event) => {
        writes.push(`insert disabled=${key.disabled}`);
        return inner.insert(key, event);
      },
      update: (...args) => {
        writes.push('update');
        return inner.update(...args);
      },
    });
    const { keyward } = testKeyward({ store, legacyTokens: LEGACY });
    const token = legacyToken();
    const key = await keyward.importKey(ORG, { token, name: 'Off', type: 'secret', disabled: true });
    expect(key.status).toBe('disabled');
    expect(writes).toEqual(['insert disabled=true']);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
    const live = await keyward.importKey(ORG, { token: legacyToken(), name: 'On', type: 'secret' });
    expect(live.status).toBe('active');
  });

  it('imports by SHA-256 digest (either case): verifies, then is stored under the current hash', async () => {
    const { keyward, store } = testKeyward({ legacyTokens: LEGACY });
    const token = legacyToken();
    const key = await keyward.importKey(ORG, {
      sha256: sha256Hex(token).toUpperCase(),
      name: 'Old',
      type: 'public',
    });
    expect(key).toMatchObject({ legacy: true, redactedKey: '…' });
    expect(key.token).toBeUndefined();
    expect((await store.findById(ORG, key.id))?.hash).toBe(sha256Hex(token));
    expect(await keyward.verify(token)).toMatchObject({ valid: true, key: { id: key.id, type: 'public' } });
    expect((await store.findById(ORG, key.id))?.hash).toBe(createTokenHasher(TEST_PEPPER)(token));
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });

  it('refuses input that is not one import: neither or both of token and sha256, a bad digest or token, unknown fields', async () => {
    const { keyward, store } = testKeyward();
    const token = legacyToken();
    const cases: Array<[unknown, string]> = [
      [{ name: 'A', type: 'secret' }, 'token'],
      [{ token, sha256: sha256Hex(token), name: 'A', type: 'secret' }, 'token'],
      [{ sha256: 'abc', name: 'A', type: 'secret' }, 'sha256'],
      [{ sha256: 'g'.repeat(64), name: 'A', type: 'secret' }, 'sha256'],
      [{ token: 'has space', name: 'A', type: 'secret' }, 'token'],
      [{ token: 'x'.repeat(257), name: 'A', type: 'secret' }, 'token'],
      [{ token, name: '', type: 'secret' }, 'name'],
      [{ token, name: 'A', type: 'secret', hash: 'x' }, 'hash'],
      [{ token, name: 'A', type: 'public', scopes: ['snippets:write'] }, 'scopes'],
      [{ token, name: 'A', type: 'secret', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
    ];
    for (const [input, path] of cases) {
      const error = await refusal(keyward.importKey(ORG, input as never));
      expect(error.code, JSON.stringify(input)).toBe('validation_error');
      expect(error.details?.some((d) => d.path === path || d.path.startsWith(`${path}.`))).toBe(true);
      expect(JSON.stringify(error.details)).not.toContain(token);
    }
    expect(await store.list(ORG)).toEqual([]);
  });

  it('refuses the same token twice, as plaintext or as digest, also after the digest was upgraded', async () => {
    const { keyward } = testKeyward({ legacyTokens: LEGACY });
    const token = legacyToken();
    await keyward.importKey(ORG, { sha256: sha256Hex(token), name: 'A', type: 'secret' });
    expect((await refusal(keyward.importKey(ORG, { token, name: 'B', type: 'secret' }))).code).toBe(
      'conflict',
    );
    expect(await keyward.verify(token)).toMatchObject({ valid: true }); // upgraded now
    const again = await refusal(
      keyward.importKey(ORG, { sha256: sha256Hex(token), name: 'C', type: 'secret' }),
    );
    expect(again.code).toBe('conflict');
    expect(again.message).not.toContain(token);
    expect((await keyward.listKeys(ORG)).keys).toHaveLength(1);
  });

  it('rolls an imported key into a Keyward-format key that is not legacy', async () => {
    const { keyward } = testKeyward({ legacyTokens: LEGACY });
    const old = legacyToken();
    const key = await keyward.importKey(ORG, { token: old, name: 'Old', type: 'secret' });
    const rolled = await keyward.rollKey(ORG, key.id, { gracePeriodSeconds: 60 });
    expect(parseToken(rolled.token)?.type).toBe('secret');
    expect(rolled.key).toMatchObject({ legacy: false, name: 'Old' });
    expect(rolled.previous).toMatchObject({ legacy: true, status: 'rolled' });
    expect(await keyward.verify(rolled.token)).toMatchObject({ valid: true });
    expect(await keyward.verify(old)).toMatchObject({ valid: true, sunsetAt: expect.any(Date) });
  });

  it('imports many at once: one result per row, in order, refusing only the bad rows', async () => {
    const { keyward } = testKeyward({ legacyTokens: LEGACY });
    const tokens = [legacyToken(), legacyToken(), legacyToken()];
    const results = await keyward.importKeys(ORG, [
      { token: tokens[0], name: 'A', type: 'secret' },
      { token: tokens[1], name: '', type: 'secret' },
      { sha256: sha256Hex(tokens[2] as string), name: 'C', type: 'public' },
      { token: tokens[0], name: 'A again', type: 'secret' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['imported', 'refused', 'imported', 'exists']);
    const again = await keyward.importKeys(ORG, [{ token: tokens[0], name: 'A', type: 'secret' }]);
    expect(again).toEqual([{ status: 'exists' }]);
    for (const token of [tokens[0], tokens[2]])
      expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });
});

describe('legacyTokens', () => {
  it('refuses tokens outside Keyward’s format without touching the store when it is unset', async () => {
    const { store, reads } = countingStore();
    const { keyward } = testKeyward({ store });
    const token = legacyToken();
    await keyward.importKey(ORG, { token, name: 'Old', type: 'secret' });
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(keyward.verifyCached(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(reads.count).toBe(0);
  });

  it('refuses a token that does not match the pattern, or is over 256 characters, without a lookup', async () => {
    const { store, reads } = countingStore();
    const { keyward } = testKeyward({ store, legacyTokens: { pattern: /^.+$/ } });
    expect(await keyward.verify('x'.repeat(257))).toEqual({ valid: false, code: 'invalid_api_key' });
    for (const notString of [42, { length: 5, toString: () => 'sk' }, ['sk']]) {
      expect(await keyward.verify(notString)).toEqual({ valid: false, code: 'invalid_api_key' });
    }
    const { keyward: strict } = testKeyward({ store, legacyTokens: LEGACY });
    expect(await strict.verify('sk_test_nothex')).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(reads.count).toBe(0);
  });

  it('reads the store for a flood of unknown pattern-matching tokens once per token per negative ttl', async () => {
    const { store, reads } = countingStore();
    const { keyward, clock } = testKeyward({ store, legacyTokens: LEGACY, cache: { negativeTtlMs: 5_000 } });
    const flood = Array.from({ length: 200 }, legacyToken);
    // One lookup per token: the current hash, then the SHA-256 of an import by digest, then the current hash
    // again (a concurrent first use may have moved the key between those reads).
    const readsPerLookup = 3;
    for (let round = 0; round < 5; round++) {
      for (const token of flood)
        expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    }
    expect(reads.count).toBe(flood.length * readsPerLookup);
    clock.advance(5_001);
    for (const token of flood) await keyward.verify(token);
    expect(reads.count).toBe(2 * flood.length * readsPerLookup);
  });

  it('does not let a pattern-matching token find a key that is not imported, nor a g flag change answers', async () => {
    const { keyward } = testKeyward({ legacyTokens: { pattern: /^sk_live_[0-9a-f]{32}$/g } });
    const token = legacyToken();
    await keyward.importKey(ORG, { token, name: 'Old', type: 'secret' });
    for (let i = 0; i < 3; i++) expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });

  it('throws a TypeError at start for a pattern that is not a RegExp', () => {
    expect(() => testKeyward({ legacyTokens: { pattern: '^sk_' as never } })).toThrow(TypeError);
    expect(() => testKeyward({ legacyTokens: null as never })).toThrow(TypeError);
  });
});

describe('pepper rotation', () => {
  const A = 'rotation-pepper-a-not-secret';
  const B = 'rotation-pepper-b-not-secret';

  it('reads the store once for an unknown Keyward token without rotation, and once per pepper (plus one) with it', async () => {
    const { store, reads } = countingStore();
    const { keyward } = testKeyward({ store, pepper: A });
    await keyward.verify('kw_sk_00000000000000000000000000000000000000');
    const { keyward: unknown } = testKeyward({ store });
    const { token } = await unknown.createKey(ORG, { name: 'Other pepper', type: 'secret' });
    reads.count = 0;
    await keyward.verify(token);
    expect(reads.count).toBe(1);
    const { keyward: rotating } = testKeyward({ store, pepper: [B, A] });
    await rotating.verify(token);
    // B, A, and B once more (where a concurrent move would have put it).
    expect(reads.count).toBe(4);
  });

  it('admits a key another request moves to the current pepper between its reads (no refusal in the race)', async () => {
    const inner = new MemoryKeyStore();
    const { keyward: old } = testKeyward({ store: inner, pepper: A });
    const { key, token } = await old.createKey(ORG, { name: 'Raced', type: 'secret' });
    const currentHash = createTokenHasher(B)(token);
    let raced = false;
    // The first read under B misses; right then another instance moves the key from A to B.
    const store = delegatingStore(inner, {
      findByHash: async (hash) => {
        const found = await inner.findByHash(hash);
        if (hash === currentHash && !raced) {
          raced = true;
          const stored = await inner.findById(ORG, key.id);
          if (stored) await inner.rehash(stored, currentHash);
        }
        return found;
      },
    });
    const { keyward } = testKeyward({ store, pepper: [B, A], cache: false });
    expect(await keyward.verify(token)).toMatchObject({ valid: true, key: { id: key.id } });
    expect(raced).toBe(true);
  });

  it('re-hashes on use only: a key never used keeps its old hash, a key not cached stays one read after its move', async () => {
    const { store, reads } = countingStore();
    const { keyward: old } = testKeyward({ store, pepper: A });
    const used = await old.createKey(ORG, { name: 'Used', type: 'secret' });
    const idle = await old.createKey(ORG, { name: 'Idle', type: 'secret' });
    const { keyward } = testKeyward({ store, pepper: [B, A], cache: false });
    await keyward.verify(used.token);
    reads.count = 0;
    await keyward.verify(used.token);
    expect(reads.count).toBe(1);
    expect((await store.findById(ORG, idle.key.id))?.hash).toBe(createTokenHasher(A)(idle.token));
    expect((await store.findById(ORG, used.key.id))?.hash).toBe(createTokenHasher(B)(used.token));
  });

  it('tells instances sharing the store: a cached old state is dropped when the key moves', async () => {
    const shared = new MemoryKeyStore();
    const { keyward: old } = testKeyward({ store: shared, pepper: A });
    const { key, token } = await old.createKey(ORG, { name: 'K', type: 'secret' });
    const { keyward: other } = testKeyward({ store: shared, pepper: [B, A] });
    expect(await other.verify(token)).toMatchObject({ valid: true }); // moved now
    // The instance still on [A] alone had it cached; the move's announcement drops it: it fails closed.
    expect(await old.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    await other.updateKey(ORG, key.id, { disabled: true });
    expect(await other.verify(token)).toEqual({ valid: false, code: 'disabled_api_key' });
  });

  it('throws a TypeError for an empty list, a short or repeated pepper, without naming it', () => {
    const short = 'short-pepper';
    for (const pepper of [[], [B, short], [B, B], [B, 42]]) {
      let error: unknown;
      try {
        testKeyward({ pepper: pepper as never });
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(pepper)).toBeInstanceOf(TypeError);
      expect(String(error)).not.toContain(B);
      expect(String(error)).not.toContain(short);
    }
  });
});

describe('debug output during imports, rotation and legacy tokens', () => {
  const enabled = log.enabled;
  const write = log.log;
  afterEach(() => {
    log.enabled = enabled;
    log.log = write;
  });

  it('never shows a token, hash or pepper', async () => {
    const lines: string[] = [];
    log.enabled = true;
    log.log = (...args: unknown[]) => lines.push(format(...args));
    const A = 'debug-pepper-a-not-secret';
    const B = 'debug-pepper-b-not-secret';
    const store = new MemoryKeyStore();
    const { keyward: old } = testKeyward({ store, pepper: A });
    const made = await old.createKey(ORG, { name: 'K', type: 'secret' });
    const { keyward } = testKeyward({ store, pepper: [B, A], legacyTokens: LEGACY });
    const legacy = legacyToken();
    await keyward.importKey(ORG, { sha256: sha256Hex(legacy), name: 'Old', type: 'secret' });
    await keyward.verify(made.token);
    await keyward.verify(legacy);
    await keyward.verify(legacyToken());
    // A store whose move fails is logged too.
    const failing = delegatingStore(store, {
      rehash: async () => {
        throw new Error('down');
      },
    });
    const { keyward: third } = testKeyward({ store: failing, pepper: ['debug-pepper-c-not-secret', B] });
    expect(await third.verify(made.token)).toMatchObject({ valid: true });
    expect(lines.length).toBeGreaterThan(2);
    const shown = lines.join('\n');
    for (const secret of [
      made.token,
      legacy,
      A,
      B,
      sha256Hex(legacy),
      createTokenHasher(A)(made.token),
      createTokenHasher(B)(made.token),
      createTokenHasher(B)(legacy),
    ]) {
      expect(shown).not.toContain(secret);
    }
  });
});
