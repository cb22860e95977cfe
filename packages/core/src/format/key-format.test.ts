import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KeyType } from '../shared/types.js';
import { BASE62 } from './base62.js';
import {
  checksum,
  generateToken,
  isValidPrefix,
  parseToken,
  redactToken,
  tokenPattern,
  tokenType,
} from './key-format.js';

describe('key format', () => {
  it('round-trips a generated token through parse', () => {
    const token = generateToken('kw', 'secret');
    expect(token).toMatch(/^kw_sk_[0-9A-Za-z]{38}$/);
    expect(parseToken(token, 'kw')).toEqual({
      prefix: 'kw',
      type: 'secret',
      body: token.slice(6, 38),
      checksum: token.slice(38),
    });
    expect(parseToken(generateToken('acme2', 'public'))?.type).toBe('public');
  });

  it('writes the checksum as zero-padded base62 of the CRC32 of everything before it', () => {
    const head = `kw_pk_${'0'.repeat(32)}`;
    let value = crc32(Buffer.from(head)) >>> 0;
    let expected = '';
    while (value > 0) {
      expected = BASE62[value % 62] + expected;
      value = Math.floor(value / 62);
    }
    expect(checksum(head)).toBe(expected.padStart(6, '0'));
    expect(checksum('')).toBe('000000');
  });

  it('generates 10,000 tokens that all parse and are all distinct', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const token = generateToken('kw', i % 2 ? 'public' : 'secret');
      expect(parseToken(token, 'kw')).not.toBeNull();
      tokens.add(token);
    }
    expect(tokens.size).toBe(10_000);
  });

  it('uses every base62 character with no large bias', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      for (const c of generateToken('kw', 'secret').slice(6, 38)) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    // 64,000 characters: about 1,032 each; a biased generator (byte % 62) would give 0-7 about 25% more.
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(count).toBeGreaterThan(850);
    for (const count of counts.values()) expect(count).toBeLessThan(1_220);
  });

  it('rejects every single-character change of a valid token', () => {
    const token = generateToken('kw', 'secret');
    for (let i = 0; i < token.length; i++) {
      for (const c of `${BASE62}_-`) {
        if (c === token[i]) continue;
        const changed = token.slice(0, i) + c + token.slice(i + 1);
        expect(parseToken(changed, 'kw'), changed).toBeNull();
      }
    }
  });

  it('rejects every truncation and every extension of a valid token', () => {
    const token = generateToken('kw', 'public');
    for (let length = 0; length < token.length; length++)
      expect(parseToken(token.slice(0, length))).toBeNull();
    expect(parseToken(`${token}0`)).toBeNull();
    expect(parseToken(` ${token}`)).toBeNull();
  });

  it('rejects a token with another prefix than expected', () => {
    expect(parseToken(generateToken('acme', 'secret'), 'kw')).toBeNull();
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(parseToken(value)).toBeNull();
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string(), (value, prefix) => {
        parseToken(value, prefix);
      }),
      { numRuns: 2_000 },
    );
  });

  it('redacts to kind and last four characters', () => {
    const token = generateToken('kw', 'secret');
    expect(redactToken(token)).toBe(`kw_sk_…${token.slice(-4)}`);
  });

  it('validates prefixes', () => {
    expect(isValidPrefix('kw')).toBe(true);
    expect(isValidPrefix('a123456789')).toBe(true);
    for (const bad of ['', 'K', '1a', 'a1234567890', 'a_b', 'a-b', 12])
      expect(isValidPrefix(bad)).toBe(false);
    expect(() => generateToken('Bad', 'secret')).toThrow(TypeError);
  });

  it('gives secret scanners a pattern that finds tokens in text and nothing else', () => {
    const token = generateToken('kw', 'secret');
    const text = `const key = "${token}"; // kw_sk_short and kw_xx_${'a'.repeat(38)}`;
    expect(text.match(tokenPattern('kw'))).toEqual([token]);
  });
});

describe('tokenType (the verify hot path)', () => {
  it('agrees with parseToken on valid tokens, near misses and arbitrary strings', () => {
    const valid = fc.constantFrom('public', 'secret').map((type) => generateToken('kw', type as KeyType));
    const nearMiss = fc
      .tuple(valid, fc.nat(43), fc.constantFrom('a', 'Z', '0', '_', '-', 'é', ' '))
      .map(([token, at, c]) => token.slice(0, at) + c + token.slice(at + 1));
    fc.assert(
      fc.property(
        fc.oneof(valid, nearMiss, fc.string({ maxLength: 50 }), fc.string({ unit: 'binary' })),
        (token) => {
          expect(tokenType(token, 'kw')).toBe(parseToken(token, 'kw')?.type ?? null);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('refuses another prefix, and non-strings', () => {
    expect(tokenType(generateToken('acme', 'secret'), 'kw')).toBeNull();
    expect(tokenType(generateToken('acme', 'secret'), 'acme')).toBe('secret');
    for (const value of [undefined, null, 42, {}, ['kw']]) expect(tokenType(value, 'kw')).toBeNull();
  });
});
