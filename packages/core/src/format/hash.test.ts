import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTokenHasher, safeEqual } from './hash.js';

describe('token hashing', () => {
  it('uses HMAC-SHA-256 with the pepper', () => {
    const hash = createTokenHasher('pepper-pepper-pepper');
    expect(hash('kw_sk_x')).toBe(
      createHmac('sha256', 'pepper-pepper-pepper').update('kw_sk_x').digest('hex'),
    );
  });

  it('uses plain SHA-256 without a pepper', () => {
    expect(createTokenHasher()('kw_sk_x')).toBe(createHash('sha256').update('kw_sk_x').digest('hex'));
  });

  it('gives different hashes under different peppers', () => {
    expect(createTokenHasher('a'.repeat(16))('t')).not.toBe(createTokenHasher('b'.repeat(16))('t'));
  });

  it('compares strings in constant time and handles different lengths', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});
