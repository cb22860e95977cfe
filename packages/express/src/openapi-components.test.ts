import { ERROR_CODES } from '@keyward/core';
import { describe, expect, it } from 'vitest';
import { apiKeyOpenApiComponents } from './openapi-components.js';

/** Every `$ref` in `value`. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === '$ref' && typeof inner === 'string' ? [inner] : refs(inner),
  );
}

describe('apiKeyOpenApiComponents', () => {
  it('names Authorization: Bearer and X-API-Key by default, either one enough', () => {
    const { security, components } = apiKeyOpenApiComponents();
    expect(components.securitySchemes).toEqual({
      ApiKeyBearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      ApiKeyHeader: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    expect(security).toEqual([{ ApiKeyBearer: [] }, { ApiKeyHeader: [] }]);
  });

  it('follows the key sources given to apiKeyAuth (a header only, another scheme, another header)', () => {
    expect(apiKeyOpenApiComponents({ schemes: [] }).security).toEqual([{ ApiKeyHeader: [] }]);
    const custom = apiKeyOpenApiComponents({
      schemes: ['Bearer', 'Api-Key'],
      apiKeyHeader: 'X-Snippets-Key',
    });
    expect(custom.components.securitySchemes).toMatchObject({
      ApiKeyApiKeyAuthorization: { type: 'apiKey', in: 'header', name: 'Authorization' },
      ApiKeyHeader: { name: 'X-Snippets-Key' },
    });
    expect(apiKeyOpenApiComponents({ apiKeyHeader: false }).security).toEqual([{ ApiKeyBearer: [] }]);
    expect(() => apiKeyOpenApiComponents({ apiKeyHeader: 'Bad Header' })).toThrow(TypeError);
    expect(() => apiKeyOpenApiComponents({ schemes: ['a b'] })).toThrow(TypeError);
  });

  it('has 401, 403 and 429 responses whose codes are the ones Keyward answers with that status', () => {
    const { responses } = apiKeyOpenApiComponents().components;
    const codesOf = (name: string) =>
      (
        responses[name] as {
          content: {
            'application/json': {
              schema: {
                allOf: [unknown, { properties: { error: { properties: { code: { enum: string[] } } } } }];
              };
            };
          };
        }
      ).content['application/json'].schema.allOf[1].properties.error.properties.code.enum;
    for (const [name, status] of [
      ['ApiKeyUnauthorized', 401],
      ['ApiKeyForbidden', 403],
      ['ApiKeyRateLimited', 429],
    ] as const) {
      const codes = codesOf(name);
      expect(codes.length).toBeGreaterThan(0);
      for (const code of codes) expect(ERROR_CODES[code as keyof typeof ERROR_CODES].status).toBe(status);
    }
    expect(codesOf('ApiKeyUnauthorized')).toContain('missing_api_key');
    expect(codesOf('ApiKeyRateLimited')).toEqual(['rate_limited', 'too_many_invalid_keys']);
    expect(responses.ApiKeyRateLimited).toMatchObject({ headers: { 'Retry-After': expect.any(Object) } });
  });

  it('refers only to components it defines, and returns a fresh object each call', () => {
    const result = apiKeyOpenApiComponents();
    for (const ref of refs(result.components)) {
      const [, , section, name] = ref.split('/');
      expect(
        (result.components as Record<string, Record<string, unknown>>)[section as string]?.[name as string],
      ).toBeDefined();
    }
    result.components.securitySchemes.ApiKeyBearer = {};
    expect(apiKeyOpenApiComponents().components.securitySchemes.ApiKeyBearer).not.toEqual({});
  });
});
