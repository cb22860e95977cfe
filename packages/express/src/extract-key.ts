import type { IncomingMessage } from 'node:http';
import type { KeyGetter, KeySource } from './options.js';

/**
 * The one token a request carries, or why there is none to check; `fault` when the app's own `getKey`
 * threw or returned something that is not a token (a bug in the app, answered by its error handler).
 */
export type ExtractedKey =
  | { token: string }
  | { code: 'missing_api_key' | 'conflicting_api_keys' }
  | { fault: Error };

const MISSING = Object.freeze({ code: 'missing_api_key' as const });
const CONFLICT = Object.freeze({ code: 'conflicting_api_keys' as const });

type HeaderCarrier = Pick<IncomingMessage, 'headers'> & {
  headersDistinct?: Record<string, string[] | undefined>;
};

/**
 * Finds the API key of a request: `Authorization: <scheme> <token>` for each accepted scheme (`Bearer` by
 * default; case-insensitive, one or more spaces) and the API-key headers, never the query string. Every
 * value of a repeated header counts. With `source.getKey`, the app's getter is asked instead.
 * - No token anywhere (also: another scheme such as `Basic`, or an empty value) → missing.
 * - The same token any number of times → that token. Two different tokens → conflicting.
 * Never throws, whatever the headers hold (or the getter does).
 */
export function extractKey(req: HeaderCarrier, source: KeySource): ExtractedKey {
  if (source.getKey !== null) return fromGetter(req, source.getKey);
  let found: string | undefined;
  if (source.authorization !== null) {
    for (const value of headerValues(req, source.authorization)) {
      const token = schemeToken(value, source.schemes);
      if (token === null || token.length === 0) continue;
      if (found !== undefined && found !== token) return CONFLICT;
      found = token;
    }
  }
  const names = source.apiKeys;
  for (let i = 0; i < names.length; i++) {
    for (const value of headerValues(req, names[i] as string)) {
      const token = trimOws(value);
      if (token.length === 0) continue;
      if (found !== undefined && found !== token) return CONFLICT;
      found = token;
    }
  }
  return found === undefined ? MISSING : { token: found };
}

/**
 * Asks the app's `getKey`: a string is the token (spaces and tabs around it ignored, empty = none),
 * `null`/`undefined` is none, an array lists every place a key was found (the same rules as for headers:
 * one token any number of times, or a conflict).
 */
function fromGetter(req: HeaderCarrier, getKey: KeyGetter): ExtractedKey {
  let value: unknown;
  try {
    value = getKey(req as never);
  } catch (error) {
    return { fault: error instanceof Error ? error : new Error('getKey threw a non-Error value') };
  }
  if (value === undefined || value === null) return MISSING;
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  let found: string | undefined;
  for (const item of values) {
    if (item === undefined || item === null) continue;
    if (typeof item !== 'string') {
      return {
        fault: new TypeError(
          '@keyward/express: getKey must return a string, an array of strings or undefined',
        ),
      };
    }
    const token = trimOws(item);
    if (token.length === 0) continue;
    if (found !== undefined && found !== token) return CONFLICT;
    found = token;
  }
  return found === undefined ? MISSING : { token: found };
}

/**
 * The credentials of an `Authorization` value whose scheme is one of `schemes` (lower case; `''` when
 * there are none), or `null` for any other scheme.
 */
function schemeToken(value: string, schemes: readonly string[]): string | null {
  // The common form, `<scheme> <token>` with one space and nothing around: one slice, no trimming or search.
  const end = value.length - 1;
  for (let s = 0; s < schemes.length; s++) {
    const scheme = schemes[s] as string;
    const n = scheme.length;
    if (
      end > n &&
      value.charCodeAt(n) === 0x20 &&
      !isOws(value.charCodeAt(n + 1)) &&
      !isOws(value.charCodeAt(end)) &&
      startsWithScheme(value, scheme)
    )
      return value.slice(n + 1);
  }
  const trimmed = trimOws(value);
  const space = trimmed.search(/[ \t]/);
  const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
  if (!schemes.includes(scheme.toLowerCase())) return null;
  return space === -1 ? '' : trimOws(trimmed.slice(space + 1));
}

/**
 * Strips HTTP's optional whitespace (SP and HTAB, RFC 9110 §5.6.3) and nothing else: `String#trim` would
 * also strip U+00A0 and other Unicode spaces, turning a malformed value into an accepted or a missing key.
 */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Whether `value` starts with `scheme` (lower case) in any case; only ASCII letters are folded. */
function startsWithScheme(value: string, scheme: string): boolean {
  for (let i = 0; i < scheme.length; i++) {
    const code = value.charCodeAt(i);
    if ((code >= 65 && code <= 90 ? code | 0x20 : code) !== scheme.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether header name `raw`, as received, is `name` (lower case), without making a lower-case copy. */
function isHeaderName(raw: string, name: string): boolean {
  if (raw.length !== name.length) return false;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if ((code >= 65 && code <= 90 ? code | 0x20 : code) !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * All values of a header. Node keeps only the first `Authorization` and joins repeated custom headers
 * with ", " in `req.headers`; `req.headersDistinct` keeps each one, so a second key cannot hide. It is
 * built on first access by copying every header, so it is read only when `req.rawHeaders` shows the header
 * more than once. If a middleware rewrote `req.headers[name]`, its value wins.
 */
function headerValues(req: HeaderCarrier, name: string): string[] {
  const value: unknown = req.headers?.[name];
  if (typeof value === 'string') {
    if (!repeats(req, name)) return [value];
    const distinct = distinctValues(req, name);
    const consistent =
      distinct && distinct.length > 1 && (value === distinct[0] || value === distinct.join(', '));
    return consistent ? distinct : [value];
  }
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Whether the request carried header `name` (lower case) more than once; `true` when it cannot tell. */
function repeats(req: HeaderCarrier, name: string): boolean {
  const raw = (req as { rawHeaders?: unknown }).rawHeaders;
  if (!Array.isArray(raw)) return true;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const header = raw[i];
    if (typeof header === 'string' && isHeaderName(header, name)) {
      if (++seen > 1) return true;
    }
  }
  return false;
}

function distinctValues(req: HeaderCarrier, name: string): string[] | undefined {
  try {
    const values: unknown = req.headersDistinct?.[name];
    return Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : undefined;
  } catch {
    return undefined;
  }
}
