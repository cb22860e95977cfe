/** The longest token outside Keyward's format that verify ever looks at (checked before the pattern). */
export const MAX_LEGACY_TOKEN_LENGTH = 256;

/** The `legacyTokens` option: accept imported tokens of another format during a migration. */
export interface LegacyTokensOptions {
  /**
   * Tokens outside Keyward's format are looked up only when they match this, e.g. `/^sk_live_[0-9a-f]{40}$/`.
   * Anchor it (`^…$`). Tokens longer than 256 characters are refused before it runs.
   */
  pattern: RegExp;
}

/** Whether a token outside Keyward's format may be looked up; `null` when legacy tokens are off. */
export type LegacyTokenTest = ((token: string) => boolean) | null;

/**
 * Validates `legacyTokens` once (TypeError when wrong) and returns the test verify runs on tokens outside
 * Keyward's format: a string of 1 to 256 characters matching the pattern. The pattern is copied without
 * its `g`/`y` flags, so `lastIndex` never makes one answer depend on the previous one.
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
  const pattern = new RegExp(option.pattern.source, option.pattern.flags.replace(/[gy]/g, ''));
  return (token) => token.length > 0 && token.length <= MAX_LEGACY_TOKEN_LENGTH && pattern.test(token);
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
