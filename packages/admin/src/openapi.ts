import { DEFAULT_GRACE_PERIOD_SECONDS, MAX_GRACE_PERIOD_SECONDS, MAX_NAME_LENGTH } from '@keyward/core';
import { type ZodType, z } from 'zod';
import { createKeyBody, rollKeyBody, updateKeyBody } from './schemas.js';

/**
 * An OpenAPI 3.1 document, as plain JSON.
 *
 * @example
 * const doc: OpenApiDocument = createOpenApiDocument();
 * fs.writeFileSync('keys-api.json', JSON.stringify(doc, null, 2));
 */
export type OpenApiDocument = {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  servers: Array<{ url: string; description?: string }>;
  paths: Record<string, unknown>;
  components: Record<string, Record<string, unknown>>;
} & Record<string, unknown>;

/**
 * The OpenAPI 3.1 document of the admin router (contract §3), as the router serves it at
 * `GET <mount>/openapi.json`. Paths are relative to the mount: the server URL is `.`, which resolves
 * against the document's own address. Request bodies are generated from the same zod schemas the
 * router validates with. Each call returns a fresh object.
 *
 * @example
 * const doc = createOpenApiDocument();
 * doc.paths['/{id}/roll']; // { post: {...} }
 */
export function createOpenApiDocument(): OpenApiDocument {
  const idParameter = { $ref: '#/components/parameters/KeyId' };
  const common = ['401', '403', '500', '503'];
  const withId = ['404', ...common];
  const withBody = ['400', '413', '415'];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keyward admin API',
      version: '1',
      description:
        "Manage one organization's API keys. The host app mounts the router (e.g. at `/api/keys`) and decides " +
        'who the caller is and which organization they act for; every route is confined to that organization. ' +
        'Bodies are JSON (`Content-Type: application/json`), at most 16 kB. Responses carry `Cache-Control: no-store`.',
    },
    servers: [{ url: '.', description: 'The mount path of the router (relative to this document).' }],
    paths: {
      '/': {
        get: {
          operationId: 'listKeys',
          summary: "List the organization's keys, newest first",
          responses: {
            '200': json('The keys (deleted keys are never listed).', ref('KeyList')),
            ...errors(common),
          },
        },
        post: {
          operationId: 'createKey',
          summary: 'Create a key',
          requestBody: body(
            createKeyBody,
            'The new key. `scopes` defaults to every scope the key type may hold.',
          ),
          responses: {
            '201': json('The key and its full token, shown this once.', ref('KeyWithToken')),
            ...errors([...withBody, ...common]),
          },
        },
      },
      '/{id}': {
        parameters: [idParameter],
        get: {
          operationId: 'getKey',
          summary: 'Get a key',
          responses: { '200': json('The key.', ref('KeyEnvelope')), ...errors(withId) },
        },
        patch: {
          operationId: 'updateKey',
          summary: 'Change name, scopes, expiry or disabled',
          requestBody: body(
            updateKeyBody,
            'Any of the fields; `expiresAt: null` removes the expiry. `{}` changes nothing.',
          ),
          responses: {
            '200': json('The updated key.', ref('KeyEnvelope')),
            ...errors([...withBody, '404', '409', ...common]),
          },
        },
        delete: {
          operationId: 'deleteKey',
          summary: 'Delete a key: it stops working at once',
          responses: { '204': { description: 'Deleted.' }, ...errors(withId) },
        },
      },
      '/{id}/roll': {
        parameters: [idParameter],
        post: {
          operationId: 'rollKey',
          summary: 'Replace a key; the old one keeps working for a grace period',
          requestBody: {
            ...body(
              rollKeyBody,
              `Optional. \`gracePeriodSeconds\` defaults to ${DEFAULT_GRACE_PERIOD_SECONDS} (12 hours); ` +
                `0 revokes the old key now; at most ${MAX_GRACE_PERIOD_SECONDS} (7 days).`,
            ),
            required: false,
          },
          responses: {
            '201': json('The new key with its token, and the old key as it is now.', ref('RolledKey')),
            ...errors([...withBody, '404', '409', ...common]),
          },
        },
      },
      '/scopes': {
        get: {
          operationId: 'getScopes',
          summary: 'The scope catalog: every scope a key may hold, and those public keys may hold',
          responses: {
            '200': json('The scope catalog, in the order the app declares it.', ref('ScopeCatalog')),
            ...errors(['401', '403', '500']),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          responses: { '200': json('The OpenAPI document.', { type: 'object' }) },
        },
      },
    },
    components: {
      parameters: {
        KeyId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The key id, e.g. `key_0123456789ABCDEFGHIJ`. Malformed ids answer 404.',
          schema: { type: 'string' },
        },
      },
      schemas: {
        Key: keySchema(),
        KeyEnvelope: envelope({ data: ref('Key') }),
        KeyList: envelope({ data: { type: 'array', items: ref('Key') } }),
        KeyWithToken: envelope({ data: ref('Key'), token: ref('Token') }),
        RolledKey: envelope({ data: ref('Key'), token: ref('Token'), previous: ref('Key') }),
        ScopeCatalog: envelope({
          data: {
            type: 'object',
            additionalProperties: false,
            required: ['scopes', 'publicScopes'],
            properties: {
              scopes: {
                ...scopeList,
                description: 'Every scope of the catalog (what secret keys may hold).',
              },
              publicScopes: { ...scopeList, description: 'The scopes public keys may hold (the ceiling).' },
            },
          },
        }),
        Token: {
          type: 'string',
          description: 'The full token, e.g. `kw_sk_` followed by 38 base62 characters.',
          pattern: '^[a-z][a-z0-9]{0,9}_(pk|sk)_[0-9A-Za-z]{38}$',
        },
        Error: errorSchema(),
      },
      responses: {
        '400': errorResponse('The body is not valid JSON or breaks a rule; `details` lists every problem.', [
          'validation_error',
        ]),
        '401': errorResponse('The host app found nobody signed in.', ['unauthorized']),
        '403': errorResponse('The host app refused the caller.', ['forbidden']),
        '404': errorResponse("Unknown, malformed or deleted id, or another organization's key.", [
          'not_found',
        ]),
        '409': errorResponse('The key cannot be changed this way in its current state.', ['conflict']),
        '413': errorResponse('The body is larger than 16 kB.', ['payload_too_large']),
        '415': errorResponse('The body is not JSON.', ['unsupported_media_type']),
        '500': errorResponse('A fault on the server; no details are given.', ['internal_error']),
        '503': errorResponse('The key store cannot be reached; try again shortly.', [
          'key_store_unavailable',
        ]),
      },
    },
  };
}

function ref(name: string) {
  return { $ref: `#/components/schemas/${name}` };
}

function json(description: string, schema: unknown) {
  return { description, content: { 'application/json': { schema } } };
}

function errors(statuses: string[]) {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/${status}` }]));
}

function body(schema: ZodType, description: string) {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-2020-12',
  });
  return { description, required: true, content: { 'application/json': { schema: jsonSchema } } };
}

function envelope(properties: Record<string, unknown>) {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

const scopeList = { type: 'array', items: { type: 'string' }, uniqueItems: true };
const time = { type: 'string', format: 'date-time' };
const timeOrNull = { type: ['string', 'null'], format: 'date-time' };

function keySchema() {
  const properties = {
    id: { type: 'string', pattern: '^key_[0-9A-Za-z]{20}$' },
    organizationId: { type: 'string' },
    name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH },
    type: { enum: ['public', 'secret'] },
    scopes: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    redactedKey: { type: 'string', description: 'Display form, e.g. `kw_sk_…AbCd`.' },
    token: {
      ...ref('Token'),
      description: 'Public keys only: they are publishable. Never present on secret keys.',
    },
    isDefault: { type: 'boolean' },
    createdAt: time,
    updatedAt: time,
    expiresAt: {
      ...timeOrNull,
      description: 'The key is valid while now < expiresAt; `null` never expires.',
    },
    lastUsedAt: { ...timeOrNull, description: 'Accurate to about a minute.' },
    disabled: { type: 'boolean' },
    rolledAt: timeOrNull,
    replacedBy: { type: ['string', 'null'], description: 'The id of the key that replaced this one.' },
    status: {
      enum: ['active', 'rolled', 'disabled', 'expired'],
      description: '`rolled`: replaced and still inside its grace period.',
    },
  };
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties).filter((name) => name !== 'token'),
    properties,
    if: { properties: { type: { const: 'secret' } } },
    // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
    then: { properties: { token: false } },
  };
}

function errorSchema() {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          details: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['path', 'message'],
              properties: {
                path: {
                  type: 'string',
                  description: 'Dotted path of the field, e.g. `scopes.1`; `""` is the body.',
                },
                message: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}

function errorResponse(description: string, codes: string[]) {
  const validation = codes.includes('validation_error');
  const error = {
    type: 'object',
    properties: { code: { enum: codes }, details: validation ? { type: 'array', minItems: 1 } : false },
    ...(validation ? { required: ['details'] } : {}),
  };
  return json(description, { allOf: [ref('Error'), { type: 'object', properties: { error } }] });
}
