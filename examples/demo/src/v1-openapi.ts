import { apiKeyOpenApiComponents } from '@keyward/express';

/**
 * The OpenAPI 3.1 document of the demo's `/v1` API (served at `GET /v1/openapi.json`), built on
 * `apiKeyOpenApiComponents()`: the key's security schemes and the 400/401/403/429/503 refusals come from
 * `@keyward/express`; only the demo's own resources are written here. Each call returns a fresh object.
 *
 * @example
 * const doc = createV1OpenApiDocument();
 * doc.paths['/snippets']; // { get: {...}, post: {...} }
 */
export function createV1OpenApiDocument() {
  const keys = apiKeyOpenApiComponents();
  const refusals = (...names: string[]) =>
    Object.fromEntries(
      names.map((name) => [STATUS[name], { $ref: `#/components/responses/${name}` }] as const),
    );
  const keyRefusals = refusals(
    'ApiKeyBadRequest',
    'ApiKeyUnauthorized',
    'ApiKeyRateLimited',
    'ApiKeyStoreUnavailable',
  );
  return {
    openapi: '3.1.0' as const,
    info: {
      title: 'Keyward demo API',
      version: '1',
      description:
        'Snippets of an organization, read and written with its API keys. Public keys may read; writing ' +
        'needs a secret key with `snippets:write`. Answers CORS requests (public keys are for browsers).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/v1', description: 'The demo server.' }],
    security: keys.security,
    paths: {
      '/whoami': {
        get: {
          operationId: 'whoami',
          summary: 'The key the request was made with',
          responses: {
            '200': json('The verified key.', {
              type: 'object',
              additionalProperties: false,
              required: ['apiKey'],
              properties: { apiKey: { $ref: '#/components/schemas/VerifiedKey' } },
            }),
            ...keyRefusals,
            ...refusals('ApiKeyForbidden'),
          },
        },
      },
      '/snippets': {
        get: {
          operationId: 'listSnippets',
          summary: "The organization's snippets (needs `snippets:read`)",
          responses: {
            '200': json('The snippets, oldest first.', {
              type: 'object',
              additionalProperties: false,
              required: ['data'],
              properties: { data: { type: 'array', items: { $ref: '#/components/schemas/Snippet' } } },
            }),
            ...keyRefusals,
            ...refusals('ApiKeyForbidden'),
          },
        },
        post: {
          operationId: 'createSnippet',
          summary: 'Add a snippet (needs a secret key with `snippets:write`)',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['title'],
                  properties: {
                    title: {
                      type: 'string',
                      minLength: 1,
                      description: '1 to 200 characters after trimming.',
                    },
                    content: { type: 'string', maxLength: 2000 },
                  },
                },
              },
            },
          },
          responses: {
            '201': json('The new snippet.', {
              type: 'object',
              additionalProperties: false,
              required: ['data'],
              properties: { data: { $ref: '#/components/schemas/Snippet' } },
            }),
            // A 400 is a conflict of keys or a bad body: both have the ApiKeyError shape.
            '400': json('Two different keys, or a body that breaks a rule (`details`).', {
              $ref: '#/components/schemas/ApiKeyError',
            }),
            ...refusals(
              'ApiKeyUnauthorized',
              'ApiKeyForbidden',
              'ApiKeyRateLimited',
              'ApiKeyStoreUnavailable',
            ),
            '415': json('The body is not JSON.', { $ref: '#/components/schemas/DemoError' }),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getV1OpenApiDocument',
          summary: 'This document',
          security: [],
          responses: {
            '200': json('The OpenAPI document.', {
              type: 'object',
              required: ['openapi', 'info', 'paths'],
              properties: {
                openapi: { const: '3.1.0' },
                info: { type: 'object' },
                paths: { type: 'object' },
              },
            }),
          },
        },
      },
    },
    components: {
      ...keys.components,
      schemas: {
        ...keys.components.schemas,
        // A bad body is refused with validation_error: the refusal shape with that code too.
        ApiKeyError: widenCodes(keys.components.schemas.ApiKeyError ?? {}, ['validation_error']),
        DemoError: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { const: 'unsupported_media_type' }, message: { type: 'string' } },
            },
          },
        },
        VerifiedKey: {
          type: 'object',
          required: ['id', 'organizationId', 'name', 'type', 'scopes'],
          properties: {
            id: { type: 'string', pattern: '^key_[0-9A-Za-z]{20}$' },
            organizationId: { type: 'string' },
            name: { type: 'string' },
            type: { enum: ['public', 'secret'] },
            scopes: { type: 'array', items: { type: 'string' } },
          },
        },
        Snippet: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'title', 'content', 'createdAt'],
          properties: {
            id: { type: 'string' },
            title: { type: 'string' },
            content: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  };
}

const STATUS: Record<string, string> = {
  ApiKeyBadRequest: '400',
  ApiKeyUnauthorized: '401',
  ApiKeyForbidden: '403',
  ApiKeyRateLimited: '429',
  ApiKeyStoreUnavailable: '503',
};

function json(description: string, schema: unknown) {
  return { description, content: { 'application/json': { schema } } };
}

function widenCodes(schema: Record<string, unknown>, codes: string[]): Record<string, unknown> {
  const copy = structuredClone(schema) as {
    properties: { error: { properties: { code: { enum: string[] } } } };
  };
  copy.properties.error.properties.code.enum.push(...codes);
  return copy;
}
