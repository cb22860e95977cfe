import { ERROR_CODES, type KeywardErrorCode } from '@keyward/core';
import { MAX_ERROR_DETAILS } from '@keyward/core/schemas';

/**
 * Options of `apiKeyOpenApiComponents`: the same key sources as `apiKeyAuth`, so the document names the
 * headers the middleware reads.
 *
 * @example
 * const options: ApiKeyOpenApiOptions = { schemes: ['Bearer', 'Api-Key'], apiKeyHeader: 'X-API-Key' };
 */
export interface ApiKeyOpenApiOptions {
  /**
   * Authorization schemes `apiKeyAuth` accepts (its `schemes` option); `[]` when keys come only from a
   * header (apps that sign in with a bearer JWT). `Bearer` becomes an `http` bearer scheme, any other an
   * `apiKey` scheme on `Authorization` described with its prefix.
   * @default ["Bearer"]
   */
  schemes?: readonly string[];
  /**
   * The header `apiKeyAuth` reads keys from (its `apiKeyHeader` option); `false` for none.
   * @default "X-API-Key"
   */
  apiKeyHeader?: string | false;
}

/**
 * OpenAPI 3.1 `components` for an API protected by `apiKeyAuth`, and the `security` requirement that
 * names them (any one scheme is enough).
 *
 * @example
 * const { components, security } = apiKeyOpenApiComponents();
 */
export interface ApiKeyOpenApiComponents {
  /** One requirement per scheme: a request needs any one of them. */
  security: Array<Record<string, string[]>>;
  components: {
    securitySchemes: Record<string, Record<string, unknown>>;
    headers: Record<string, Record<string, unknown>>;
    schemas: Record<string, Record<string, unknown>>;
    responses: Record<string, Record<string, unknown>>;
  };
}

/** The codes `apiKeyAuth`, `requireScopes` and `requireSecretKey` answer with, by status. */
const REFUSALS = {
  ApiKeyBadRequest: {
    status: 400,
    codes: ['conflicting_api_keys'],
    description: 'The request carries two different API keys (e.g. in `Authorization` and `X-API-Key`).',
  },
  ApiKeyUnauthorized: {
    status: 401,
    codes: ['missing_api_key', 'invalid_api_key', 'expired_api_key', 'disabled_api_key'],
    description: 'No API key, or one that is unknown, expired or disabled.',
  },
  ApiKeyForbidden: {
    status: 403,
    codes: ['insufficient_scope', 'secret_key_required', 'ip_not_allowed', 'origin_not_allowed'],
    description:
      'The key is valid but may not do this: a scope it lacks (listed in `required`), a public key where a ' +
      'secret key is needed, or an address or origin outside its allowed lists.',
  },
  ApiKeyRateLimited: {
    status: 429,
    codes: ['rate_limited', 'too_many_invalid_keys'],
    description:
      'The key is over one of its limits, or this address sent too many invalid keys. Retry after ' +
      '`Retry-After` seconds.',
  },
  ApiKeyStoreUnavailable: {
    status: 503,
    codes: ['key_store_unavailable'],
    description: 'The key store cannot be reached; try again shortly.',
  },
} as const satisfies Record<
  string,
  { status: number; codes: readonly KeywardErrorCode[]; description: string }
>;

/**
 * OpenAPI 3.1 components to describe your own key-protected API (the routes behind `apiKeyAuth`): the
 * security schemes for the key in `Authorization: Bearer <key>` (`ApiKeyBearer`) and in `X-API-Key`
 * (`ApiKeyHeader`), the refusals as reusable responses — `ApiKeyUnauthorized` (401, with
 * `WWW-Authenticate`), `ApiKeyForbidden` (403), `ApiKeyRateLimited` (429, with `Retry-After`), plus
 * `ApiKeyBadRequest` (400 `conflicting_api_keys`) and `ApiKeyStoreUnavailable` (503) — their `ApiKeyError`
 * schema, and the `RateLimit` / `RateLimit-Policy` headers. Spread them into your document and reference
 * them (`$ref: '#/components/responses/ApiKeyUnauthorized'`). Pass the key-source options you give
 * `apiKeyAuth` (`schemes`, `apiKeyHeader`) so the schemes name the headers it reads. Each call returns a
 * fresh object.
 *
 * @example
 * import { apiKeyOpenApiComponents } from '@keyward/express';
 *
 * const keys = apiKeyOpenApiComponents();
 * const document = {
 *   openapi: '3.1.0',
 *   info: { title: 'Snippets API', version: '1' },
 *   security: keys.security,
 *   paths: {
 *     '/snippets': {
 *       get: {
 *         responses: {
 *           '200': { description: 'The snippets.' },
 *           '401': { $ref: '#/components/responses/ApiKeyUnauthorized' },
 *           '403': { $ref: '#/components/responses/ApiKeyForbidden' },
 *           '429': { $ref: '#/components/responses/ApiKeyRateLimited' },
 *         },
 *       },
 *     },
 *   },
 *   components: keys.components,
 * };
 */
export function apiKeyOpenApiComponents(options: ApiKeyOpenApiOptions = {}): ApiKeyOpenApiComponents {
  const schemes = options.schemes ?? ['Bearer'];
  const header = options.apiKeyHeader ?? 'X-API-Key';
  if (
    !Array.isArray(schemes) ||
    schemes.some((s) => typeof s !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s))
  ) {
    throw new TypeError(
      "Keyward: apiKeyOpenApiComponents({ schemes }) takes scheme names such as ['Bearer']",
    );
  }
  if (header !== false && (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))) {
    throw new TypeError('Keyward: apiKeyOpenApiComponents({ apiKeyHeader }) takes a header name or false');
  }
  const securitySchemes: Record<string, Record<string, unknown>> = {};
  for (const scheme of schemes) {
    if (scheme.toLowerCase() === 'bearer') {
      securitySchemes.ApiKeyBearer = {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'An API key in `Authorization: Bearer <key>`.',
      };
    } else {
      securitySchemes[`ApiKey${scheme.replace(/[^0-9A-Za-z]/g, '')}Authorization`] = {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description: `An API key in \`Authorization: ${scheme} <key>\`.`,
      };
    }
  }
  if (header !== false) {
    securitySchemes.ApiKeyHeader = {
      type: 'apiKey',
      in: 'header',
      name: header,
      description: `An API key in \`${header}: <key>\`. A request with keys in two places that differ gets 400.`,
    };
  }
  const responses = Object.fromEntries(
    Object.entries(REFUSALS).map(([name, { status, codes, description }]) => [
      name,
      refusal(status, codes, description),
    ]),
  );
  return {
    security: Object.keys(securitySchemes).map((name) => ({ [name]: [] })),
    components: {
      securitySchemes,
      headers: {
        RateLimit: {
          description:
            'The tightest limit of the key: `"<window>"; r=<remaining>; t=<seconds to reset>` ' +
            '(draft-ietf-httpapi-ratelimit-headers). Sent on every admitted request of a key with limits.',
          schema: { type: 'string' },
        },
        'RateLimit-Policy': {
          description: 'The limit behind `RateLimit`: `"<window>"; q=<limit>; w=<window seconds>`.',
          schema: { type: 'string' },
        },
        'Retry-After': {
          description: 'Seconds until a request may succeed again.',
          schema: { type: 'integer', minimum: 0 },
        },
        'WWW-Authenticate': {
          description: 'The challenge of RFC 6750, e.g. `Bearer realm="api", error="invalid_token"`.',
          schema: { type: 'string' },
        },
      },
      schemas: {
        ApiKeyError: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: {
                  type: 'string',
                  enum: Object.values(REFUSALS).flatMap(({ codes }) => [...codes]),
                },
                message: { type: 'string' },
                required: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'On `insufficient_scope`: the scopes the route requires.',
                },
                details: {
                  type: 'array',
                  maxItems: MAX_ERROR_DETAILS,
                  items: {
                    type: 'object',
                    required: ['path', 'message'],
                    properties: { path: { type: 'string' }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
      responses,
    },
  };
}

function refusal(status: number, codes: readonly KeywardErrorCode[], description: string) {
  const headers: Record<string, unknown> = {};
  if (status === 401) headers['WWW-Authenticate'] = { $ref: '#/components/headers/WWW-Authenticate' };
  if (status === 429) headers['Retry-After'] = { $ref: '#/components/headers/Retry-After' };
  for (const code of codes) {
    if (ERROR_CODES[code].status !== status) throw new Error(`Keyward: ${code} is not a ${status}`);
  }
  return {
    description: `${description} Codes: ${codes.map((code) => `\`${code}\``).join(', ')}.`,
    ...(Object.keys(headers).length > 0 && { headers }),
    content: {
      'application/json': {
        schema: {
          allOf: [
            { $ref: '#/components/schemas/ApiKeyError' },
            {
              type: 'object',
              properties: { error: { type: 'object', properties: { code: { enum: [...codes] } } } },
            },
          ],
        },
      },
    },
  };
}
