import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractKey } from './extract-key.js';
import type { KeySource } from './options.js';

const SOURCE: KeySource = {
  authorization: 'authorization',
  schemes: ['bearer'],
  apiKeys: ['x-api-key'],
  getKey: null,
};

function source(overrides: Partial<KeySource>): KeySource {
  return { ...SOURCE, ...overrides };
}

function req(headers: Record<string, unknown>, headersDistinct?: Record<string, string[]>) {
  return { headers, headersDistinct } as unknown as IncomingMessage;
}

describe('extractKey', () => {
  it('finds the token after Bearer and in the API-key header', () => {
    expect(extractKey(req({ authorization: 'Bearer abc' }), SOURCE)).toEqual({ token: 'abc' });
    expect(extractKey(req({ 'x-api-key': 'abc' }), SOURCE)).toEqual({ token: 'abc' });
  });

  it('treats header values that are arrays as repeated headers', () => {
    expect(extractKey(req({ 'x-api-key': ['abc', 'abc'] }), SOURCE)).toEqual({ token: 'abc' });
    expect(extractKey(req({ 'x-api-key': ['abc', 'xyz'] }), SOURCE)).toEqual({
      code: 'conflicting_api_keys',
    });
    expect(extractKey(req({ authorization: ['Basic x', 'Bearer abc'] }), SOURCE)).toEqual({ token: 'abc' });
  });

  it('answers missing for values that are not strings instead of throwing', () => {
    for (const value of [42, null, { toString: () => 'Bearer abc' }, [1, 2], true]) {
      expect(extractKey(req({ authorization: value, 'x-api-key': value }), SOURCE)).toEqual({
        code: 'missing_api_key',
      });
    }
    expect(extractKey({} as IncomingMessage, SOURCE)).toEqual({ code: 'missing_api_key' });
  });

  it('sees every value Node received, even where req.headers kept only the first', () => {
    const request = req({ authorization: 'Bearer abc' }, { authorization: ['Bearer abc', 'Bearer xyz'] });
    expect(extractKey(request, SOURCE)).toEqual({ code: 'conflicting_api_keys' });
  });

  it('sees every value Node received where req.headers joined them with a comma', () => {
    const request = req({ 'x-api-key': 'abc, xyz' }, { 'x-api-key': ['abc', 'xyz'] });
    expect(extractKey(request, SOURCE)).toEqual({ code: 'conflicting_api_keys' });
  });

  it('trusts req.headers when a middleware rewrote it', () => {
    const request = req({ authorization: 'Bearer new' }, { authorization: ['Bearer old', 'Bearer older'] });
    expect(extractKey(request, SOURCE)).toEqual({ token: 'new' });
  });

  it('falls back to req.headers when reading headersDistinct throws', () => {
    const request = {
      headers: { authorization: 'Bearer abc' },
      get headersDistinct(): never {
        throw new Error('broken getter');
      },
    } as unknown as IncomingMessage;
    expect(extractKey(request, SOURCE)).toEqual({ token: 'abc' });
  });

  it('only reads the headers that are turned on', () => {
    const request = req({ authorization: 'Bearer abc', 'x-api-key': 'xyz' });
    expect(extractKey(request, source({ authorization: null }))).toEqual({ token: 'xyz' });
    expect(extractKey(request, source({ apiKeys: [] }))).toEqual({ token: 'abc' });
  });

  it('reads every form of Bearer value as the general rule does (the common form has a shortcut)', () => {
    // The rule: trim SP/HTAB, split the scheme at the first SP/HTAB, compare it case-insensitively, trim the rest.
    const byRule = (value: string): string | undefined => {
      const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
      const space = trimmed.search(/[ \t]/);
      const scheme = space === -1 ? trimmed : trimmed.slice(0, space);
      if (scheme.toLowerCase() !== 'bearer') return undefined;
      const token = space === -1 ? '' : trimmed.slice(space + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      return token === '' ? undefined : token;
    };
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'BeArEr',
      'Bearerx',
      'Bear',
      ' ',
      '\t',
      '\u00a0',
      'abc',
      'k',
      'é',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 6 }).map((parts) => parts.join('')),
        (value) => {
          const found = extractKey(req({ authorization: value }), SOURCE);
          const expected = byRule(value);
          expect(found).toEqual(expected === undefined ? { code: 'missing_api_key' } : { token: expected });
        },
      ),
      { numRuns: 2000 },
    );
    for (const [value, token] of [
      ['Bearer abc', 'abc'],
      ['bEARER abc', 'abc'],
      ['Bearer  abc', 'abc'],
      ['Bearer\tabc', 'abc'],
      [' Bearer abc \t', 'abc'],
      ['Bearer a b', 'a b'],
    ] as const) {
      expect(extractKey(req({ authorization: value }), SOURCE)).toEqual({ token });
    }
    for (const value of ['Bearer ', 'Bearer', 'Bearerx abc', 'Basic abc', 'Bearer\u00a0abc']) {
      expect(extractKey(req({ authorization: value }), SOURCE)).toEqual({ code: 'missing_api_key' });
    }
  });

  it('tells a repeated header by its name in any case, whatever characters the name has', () => {
    const only = source({ authorization: null, apiKeys: ['x_api~key'] });
    const repeated = {
      headers: { 'x_api~key': 'abc, xyz' },
      headersDistinct: { 'x_api~key': ['abc', 'xyz'] },
      rawHeaders: ['X_API~Key', 'abc', 'x_api~KEY', 'xyz'],
    } as unknown as IncomingMessage;
    expect(extractKey(repeated, only)).toEqual({ code: 'conflicting_api_keys' });
    // A name that only differs in a character case-folding must not touch ('^' is not '~').
    const other = {
      headers: { 'x_api~key': 'abc' },
      // Read only if the other name were taken for this one: then it would answer conflicting.
      headersDistinct: { 'x_api~key': ['abc', 'xyz'] },
      rawHeaders: ['X_API~Key', 'abc', 'x_api^key', 'xyz'],
    } as unknown as IncomingMessage;
    expect(extractKey(other, only)).toEqual({ token: 'abc' });
  });

  it('reads every accepted scheme, in any case, and no other', () => {
    const schemes = source({ schemes: ['bearer', 'api-key'] });
    for (const value of ['Api-Key abc', 'api-key abc', 'API-KEY  abc', ' Api-Key\tabc ', 'Bearer abc']) {
      expect(extractKey(req({ authorization: value }), schemes)).toEqual({ token: 'abc' });
    }
    for (const value of ['Api-Keyx abc', 'Api_Key abc', 'Api-Key', 'Api-Key ', 'Basic abc', 'ApiKey abc']) {
      expect(extractKey(req({ authorization: value }), schemes)).toEqual({ code: 'missing_api_key' });
    }
    // Only ASCII letters fold: a character whose code differs by 0x20 from '-' (CR) is not '-'.
    expect(extractKey(req({ authorization: 'Api\rKey abc' }), schemes)).toEqual({ code: 'missing_api_key' });
    const apiKeyOnly = source({ schemes: ['api-key'] });
    expect(extractKey(req({ authorization: 'Bearer abc' }), apiKeyOnly)).toEqual({ code: 'missing_api_key' });
  });

  it('applies the conflict rule across schemes and headers', () => {
    const schemes = source({ schemes: ['bearer', 'api-key'], apiKeys: ['x-api-key', 'api-key'] });
    expect(extractKey(req({ authorization: 'Api-Key abc', 'api-key': 'abc' }), schemes)).toEqual({
      token: 'abc',
    });
    expect(extractKey(req({ authorization: 'Api-Key abc', 'api-key': 'xyz' }), schemes)).toEqual({
      code: 'conflicting_api_keys',
    });
    expect(extractKey(req({ 'x-api-key': 'abc', 'api-key': 'xyz' }), schemes)).toEqual({
      code: 'conflicting_api_keys',
    });
    expect(extractKey(req({ 'api-key': ' abc\t' }), schemes)).toEqual({ token: 'abc' });
  });

  it('asks the getter instead of the headers, with the same whitespace and conflict rules', () => {
    const headers = { authorization: 'Bearer from-header', 'x-api-key': 'from-header' };
    const getter = (value: unknown) => source({ getKey: () => value as string });
    expect(extractKey(req(headers), getter(' abc\t'))).toEqual({ token: 'abc' });
    expect(extractKey(req(headers), getter(['abc', 'abc', undefined]))).toEqual({ token: 'abc' });
    expect(extractKey(req(headers), getter(['abc', 'xyz']))).toEqual({ code: 'conflicting_api_keys' });
    for (const none of [undefined, null, '', ' \t', [], ['']]) {
      expect(extractKey(req(headers), getter(none))).toEqual({ code: 'missing_api_key' });
    }
    expect(extractKey(req(headers), getter('\u00a0abc'))).toEqual({ token: '\u00a0abc' });
  });

  it('reports a getter that throws or returns something else as a fault, never throwing', () => {
    const thrown = new Error('boom');
    const throwing = source({
      getKey: () => {
        throw thrown;
      },
    });
    expect(extractKey(req({}), throwing)).toEqual({ fault: thrown });
    for (const wrong of [42, { token: 'abc' }, ['abc', 7]]) {
      const found = extractKey(req({}), source({ getKey: () => wrong as unknown as string }));
      expect(found).toEqual({ fault: expect.any(TypeError) });
    }
  });
});
