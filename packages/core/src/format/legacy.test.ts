import { describe, expect, it } from 'vitest';
import { testKeyward } from '../testing/fixtures.js';
import { legacyTokenTest, MAX_LEGACY_TOKEN_LENGTH } from './legacy.js';

describe('legacyTokens.pattern on a linear-time engine', () => {
  it('answers ^(a+)+$ on the longest token it looks at without backtracking', () => {
    const accepts = legacyTokenTest({ pattern: /^(a+)+$/ });
    // On V8's backtracking engine this input takes about 2^255 steps (30 characters took 44.5 s): the test
    // only finishes because the pattern runs on RE2's automaton, linear in the input by construction.
    const evil = `${'a'.repeat(MAX_LEGACY_TOKEN_LENGTH - 1)}!`;
    expect(accepts?.(evil)).toBe(false);
    expect(accepts?.('a'.repeat(MAX_LEGACY_TOKEN_LENGTH))).toBe(true);
    expect(accepts?.('a'.repeat(MAX_LEGACY_TOKEN_LENGTH + 1))).toBe(false);
  });

  it('answers alternation and adjacent-quantifier forms that a nested-quantifier screen would miss', () => {
    const alternation = legacyTokenTest({ pattern: /^(a|a)*b$/ });
    const adjacent = legacyTokenTest({ pattern: /^(\d+)*\d$/ });
    expect(alternation?.(`${'a'.repeat(200)}c`)).toBe(false);
    expect(alternation?.(`${'a'.repeat(200)}b`)).toBe(true);
    expect(adjacent?.(`${'1'.repeat(200)}x`)).toBe(false);
    expect(adjacent?.('1'.repeat(200))).toBe(true);
  });

  it('keeps RegExp semantics for anchors, classes, escapes and the i, m and s flags', () => {
    const plain = legacyTokenTest({ pattern: /^sk_live_[0-9a-f]{4}$/ });
    expect(plain?.('sk_live_0a1b')).toBe(true);
    expect(plain?.('sk_live_0A1B')).toBe(false);
    expect(plain?.('xsk_live_0a1b')).toBe(false);
    expect(plain?.('sk_live_0a1b\n')).toBe(false);
    expect(legacyTokenTest({ pattern: /^sk_live_[0-9a-f]{4}$/i })?.('SK_LIVE_0A1B')).toBe(true);
    expect(legacyTokenTest({ pattern: /^tok\/\d+\.\w+$/ })?.('tok/12.ab_c')).toBe(true);
    expect(legacyTokenTest({ pattern: /^a.b$/ })?.('a\nb')).toBe(false);
    expect(legacyTokenTest({ pattern: /^a.b$/s })?.('a\nb')).toBe(true);
    expect(legacyTokenTest({ pattern: /^b$/m })?.('a\nb')).toBe(true);
    // Unanchored patterns search, as RegExp#test does.
    expect(legacyTokenTest({ pattern: /live_/ })?.('sk_live_x')).toBe(true);
  });

  it('ignores g and y: an answer never depends on the one before', () => {
    const accepts = legacyTokenTest({ pattern: /^sk_[a-z]+$/gy });
    for (let i = 0; i < 3; i++) expect(accepts?.('sk_abc')).toBe(true);
  });

  it('refuses at start-up, with a TypeError, patterns RE2 cannot run (lookarounds, backreferences, v flag)', () => {
    for (const pattern of [
      /^(?=sk_)sk_\w+$/,
      /^(?!x)\w+$/,
      /^(\w)\1$/,
      /^(?<=a)b$/,
      // biome-ignore lint/complexity/useRegexLiterals: a v-flag literal needs an es2024 target
      new RegExp('^[\\w--_]+$', 'v'),
    ]) {
      expect(() => testKeyward({ legacyTokens: { pattern } }), String(pattern)).toThrow(TypeError);
    }
  });

  it('refuses a token made to backtrack through verify as invalid_api_key', async () => {
    const { keyward } = testKeyward({ legacyTokens: { pattern: /^(a+)+$/ } });
    expect(await keyward.verify(`${'a'.repeat(200)}!`)).toEqual({ valid: false, code: 'invalid_api_key' });
  });
});
