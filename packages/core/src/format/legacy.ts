import { RE2JS } from 're2js';

/** The longest token outside Keyward's format that verify ever looks at (checked before the pattern). */
export const MAX_LEGACY_TOKEN_LENGTH = 256;

/** The `legacyTokens` option: accept imported tokens of another format during a migration. */
export interface LegacyTokensOptions {
  /**
   * Tokens outside Keyward's format are looked up only when they match this, e.g. `/^sk_live_[0-9a-f]{40}$/`.
   * Anchor it (`^…$`). Tokens longer than 256 characters are refused before it runs. It runs on RE2's
   * linear-time engine (`re2js`, pure JavaScript), never on V8's backtracking one: no pattern can make a
   * token take exponential time (`^(a+)+$` included). Lookarounds and backreferences are not RE2 syntax:
   * a pattern using them is refused at start-up (TypeError). Flags `i`, `m` and `s` apply; `g`, `y`, `u`
   * and `d` are ignored.
   */
  pattern: RegExp;
}

/** Whether a token outside Keyward's format may be looked up; `null` when legacy tokens are off. */
export type LegacyTokenTest = ((token: string) => boolean) | null;

/**
 * Validates `legacyTokens` once (TypeError when wrong) and returns the test verify runs on tokens outside
 * Keyward's format: a string of 1 to 256 characters matching the pattern. The pattern is compiled once for
 * RE2's linear-time engine (so no token can make it backtrack catastrophically, and no `lastIndex` makes
 * one answer depend on the previous one); a pattern RE2 cannot run (lookaround, backreference, a `v`
 * flag) is a TypeError.
 *
 * @example
 * const accepts = legacyTokenTest({ pattern: /^sk_live_[0-9a-f]{40}$/ });
 * accepts?.('sk_live_…'); // true or false
 */
export function legacyTokenTest(option: LegacyTokensOptions | undefined): LegacyTokenTest {
  if (option === undefined) return null;
  if (typeof option !== 'object' || option === null || !(option.pattern instanceof RegExp)) {
    throw new TypeError('Keyward: legacyTokens.pattern must be a RegExp');
  }
  const pattern = linearPattern(option.pattern);
  return (token) => token.length > 0 && token.length <= MAX_LEGACY_TOKEN_LENGTH && pattern.test(token);
}

/**
 * The pattern compiled for RE2 (linear time in the input, by construction: no backtracking). Written with
 * `re2js` rather than screening patterns for nested quantifiers: a screen misses forms such as `(a|a)*`
 * or `(\d+)*\d`, an engine without backtracking has none to miss.
 */
function linearPattern(pattern: RegExp): { test(input: string): boolean } {
  if (pattern.flags.includes('v')) {
    throw new TypeError('Keyward: legacyTokens.pattern cannot use the v flag (RE2 syntax only)');
  }
  let flags = 0;
  if (pattern.flags.includes('i')) flags |= RE2JS.CASE_INSENSITIVE;
  if (pattern.flags.includes('m')) flags |= RE2JS.MULTILINE;
  if (pattern.flags.includes('s')) flags |= RE2JS.DOTALL;
  try {
    return RE2JS.compile(RE2JS.translateRegExp(pattern.source), flags);
  } catch (error) {
    throw new TypeError(
      `Keyward: legacyTokens.pattern must be RE2 syntax (no lookarounds or backreferences): ${
        (error as Error)?.message ?? String(error)
      }`,
      { cause: error },
    );
  }
}

/**
 * The display form of an imported token: its last 4 characters after an ellipsis (`…AbCd`), or `…` for
 * a key imported by digest (its token was never seen).
 *
 * @example
 * redactLegacyToken('sk_live_0123abcd'); // "…abcd"
 */
export function redactLegacyToken(token: string | null): string {
  return token === null ? '…' : `…${token.slice(-4)}`;
}
