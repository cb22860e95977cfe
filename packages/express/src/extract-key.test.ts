import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { extractKey } from './extract-key.js';

const SOURCE = { authorization: 'authorization', apiKey: 'x-api-key' };

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
    expect(extractKey(request, { authorization: null, apiKey: 'x-api-key' })).toEqual({ token: 'xyz' });
    expect(extractKey(request, { authorization: 'authorization', apiKey: null })).toEqual({ token: 'abc' });
  });
});
