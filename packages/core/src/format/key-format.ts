import { crc32 } from 'node:zlib';
import type { KeyType } from '../shared/types.js';
import { BASE62_DIGITS, encodeBase62, isBase62, randomBase62 } from './base62.js';

/** Characters of random body in every token (about 190 bits). */
export const BODY_LENGTH = 32;
if (BODY_LENGTH % 4 !== 0) throw new Error('tokenType reads the body four characters at a time');
/** Characters of base62 CRC32 at the end of every token. */
export const CHECKSUM_LENGTH = 6;
/** The default token prefix. */
export const DEFAULT_PREFIX = 'kw';

const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,9}$/;
const KIND_BY_TYPE: Readonly<Record<KeyType, string>> = { public: 'pk', secret: 'sk' };
const MAX_TOKEN_LENGTH = 10 + 1 + 2 + 1 + BODY_LENGTH + CHECKSUM_LENGTH;

/** The parts of a well-formed token. */
export interface ParsedToken {
  prefix: string;
  type: KeyType;
  body: string;
  checksum: string;
}

/**
 * Whether `prefix` is a valid token prefix (`^[a-z][a-z0-9]{0,9}$`).
 *
 * @example
 * isValidPrefix('acme'); // true
 */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && PREFIX_PATTERN.test(prefix);
}

/**
 * The 6-character base62 CRC32 of `text` (docs/reference.md §1).
 *
 * @example
 * checksum('kw_sk_' + body);
 */
export function checksum(text: string): string {
  return encodeBase62(crc32(text) >>> 0, CHECKSUM_LENGTH);
}

/**
 * The type of a well-formed token with this exact prefix and a correct checksum, else `null`. The verify
 * hot path: no allocation, no regular expression, one CRC32 of the token's head.
 *
 * @example
 * tokenType(token, 'kw'); // "secret"
 */
export function tokenType(token: unknown, prefix: string): KeyType | null {
  if (typeof token !== 'string') return null;
  const p = prefix.length;
  const length = token.length;
  if (length !== p + 4 + BODY_LENGTH + CHECKSUM_LENGTH || !token.startsWith(prefix)) return null;
  if (token.charCodeAt(p) !== 95 || token.charCodeAt(p + 3) !== 95 || token.charCodeAt(p + 2) !== 107)
    return null;
  const kind = token.charCodeAt(p + 1); // "_pk_" or "_sk_"
  const type: KeyType | null = kind === 112 ? 'public' : kind === 115 ? 'secret' : null;
  if (type === null) return null;
  // One pass: the CRC-32 (IEEE, as zlib computes it) of the head, the body's alphabet, then the checksum.
  let crc = -1;
  for (let i = 0; i < p + 4; i++) crc = crcStep(crc, token.charCodeAt(i));
  const end = length - CHECKSUM_LENGTH;
  // The body, four characters a step ("slicing-by-4"): a quarter of the table lookups that depend on each
  // other. BODY_LENGTH is a multiple of 4.
  for (let i = p + 4; i < end; i += 4) {
    const a = token.charCodeAt(i);
    const b = token.charCodeAt(i + 1);
    const c = token.charCodeAt(i + 2);
    const d = token.charCodeAt(i + 3);
    if ((a | b | c | d) > 127) return null;
    const digits =
      (BASE62_DIGITS[a] as number) |
      (BASE62_DIGITS[b] as number) |
      (BASE62_DIGITS[c] as number) |
      (BASE62_DIGITS[d] as number);
    if (digits < 0) return null;
    crc ^= a | (b << 8) | (c << 16) | (d << 24);
    crc =
      (CRC_TABLES[3 * 256 + (crc & 0xff)] as number) ^
      (CRC_TABLES[2 * 256 + ((crc >>> 8) & 0xff)] as number) ^
      (CRC_TABLES[256 + ((crc >>> 16) & 0xff)] as number) ^
      (CRC_TABLES[crc >>> 24] as number);
  }
  let sum = 0;
  for (let i = end; i < length; i++) {
    const code = token.charCodeAt(i);
    const digit = code > 127 ? -1 : (BASE62_DIGITS[code] as number);
    if (digit < 0) return null;
    sum = sum * 62 + digit;
  }
  return sum === (crc ^ -1) >>> 0 ? type : null;
}

/**
 * CRC-32 (IEEE) lookup tables, as zlib computes it: table 0 advances the CRC by one byte, table k by a byte
 * followed by k zero bytes (for four bytes a step).
 */
const CRC_TABLES = (() => {
  const tables = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let k = 1; k < 4; k++) {
    for (let n = 0; n < 256; n++) {
      const previous = tables[(k - 1) * 256 + n] as number;
      tables[k * 256 + n] = (tables[previous & 0xff] as number) ^ (previous >>> 8);
    }
  }
  return tables;
})();

/**
 * One character of a CRC-32 (IEEE) over an ASCII string, in JavaScript: for a 40-character token head this
 * is several times faster than `zlib.crc32`, whose cost is mostly crossing into C++.
 */
function crcStep(crc: number, code: number): number {
  return (CRC_TABLES[(crc ^ code) & 0xff] as number) ^ (crc >>> 8);
}

/**
 * A new random token of the given type.
 *
 * @example
 * generateToken('kw', 'secret'); // "kw_sk_…" (44 characters)
 */
export function generateToken(prefix: string, type: KeyType): string {
  if (!isValidPrefix(prefix)) throw new TypeError('Keyward: prefix must match ^[a-z][a-z0-9]{0,9}$');
  const head = `${prefix}_${KIND_BY_TYPE[type]}_${randomBase62(BODY_LENGTH)}`;
  return head + checksum(head);
}

/**
 * Parses a token. Pure and total: returns `null` for anything that is not a well-formed token with a
 * correct checksum (and, when `expectedPrefix` is given, that prefix). Never throws.
 *
 * @example
 * parseToken(token, 'kw')?.type; // "secret"
 */
export function parseToken(token: unknown, expectedPrefix?: string): ParsedToken | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const firstSep = token.indexOf('_');
  if (firstSep < 1) return null;
  const prefix = token.slice(0, firstSep);
  if (expectedPrefix !== undefined ? prefix !== expectedPrefix : !PREFIX_PATTERN.test(prefix)) return null;
  const kind = token.slice(firstSep + 1, firstSep + 3);
  const type: KeyType | null = kind === 'pk' ? 'public' : kind === 'sk' ? 'secret' : null;
  if (type === null || token[firstSep + 3] !== '_') return null;
  const rest = token.slice(firstSep + 4);
  if (rest.length !== BODY_LENGTH + CHECKSUM_LENGTH || !isBase62(rest)) return null;
  const head = token.slice(0, token.length - CHECKSUM_LENGTH);
  const sum = rest.slice(BODY_LENGTH);
  if (checksum(head) !== sum) return null;
  return { prefix, type, body: rest.slice(0, BODY_LENGTH), checksum: sum };
}

/**
 * The display form of a token: `kw_sk_…` and its last 4 characters.
 *
 * @example
 * redactToken('kw_sk_…AbCd'); // "kw_sk_…AbCd"
 */
export function redactToken(token: string): string {
  const parsed = parseToken(token);
  const head = parsed ? `${parsed.prefix}_${KIND_BY_TYPE[parsed.type]}_` : '';
  return `${head}…${token.slice(-4)}`;
}

/**
 * A regular expression that finds tokens with `prefix` in text (for secret scanners).
 *
 * @example
 * tokenPattern('kw').test(file); // true when a Keyward key leaked into `file`
 */
export function tokenPattern(prefix = DEFAULT_PREFIX): RegExp {
  if (!isValidPrefix(prefix)) throw new TypeError('Keyward: prefix must match ^[a-z][a-z0-9]{0,9}$');
  return new RegExp(`\\b${prefix}_(?:pk|sk)_[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}\\b`, 'g');
}
