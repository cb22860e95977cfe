import {
  createKeyInputSchema,
  DEFAULT_GRACE_PERIOD_SECONDS,
  DEFAULT_PAGE_SIZE,
  keyEventSchema,
  keySchema,
  listEventsQuerySchema,
  listKeysQuerySchema,
  MAX_ERROR_DETAILS,
  MAX_GRACE_PERIOD_SECONDS,
  rollKeyInputSchema,
  type ScopePolicy,
  updateKeyInputSchema,
} from '@keyward/core/schemas';
import type { RequestHandler } from 'express';
import { type ZodType, z } from 'zod';
import { creditComponents, creditPaths } from './openapi-credits.js';
import { usageComponents, usagePaths } from './openapi-usage.js';

/**
 * An OpenAPI 3.1 document, as plain JSON.
 *
 * @example
 * const doc: OpenApiDocument = createOpenApiDocument();
 * fs.writeFileSync('keys-api.json', JSON.stringify(doc, null, 2));
 */
export type OpenApiDocument = {
  openapi: '3.1.0';
  info: {
    title: string;
    version: string;
    description?: string;
    license?: { name: string; identifier?: string };
  };
  servers: Array<{ url: string; description?: string }>;
  security: Array<Record<string, string[]>>;
  paths: Record<string, unknown>;
  components: Record<string, Record<string, unknown>>;
} & Record<string, unknown>;

/**
 * The app's scope catalog, as the document declares it: the Keyward service's `scopes` policy
 * (`keyward.scopes`), or the lists the app passed to `createKeyward`.
 *
 * @example
 * const catalog: OpenApiScopes = { scopes: ['snippets:read', 'snippets:write'], publicScopes: ['snippets:read'] };
 */
export type OpenApiScopes = ScopePolicy | { scopes: readonly string[]; publicScopes?: readonly string[] };

/**
 * How callers of the admin API authenticate, as the document's security scheme says it: the host app's
 * session cookie (its name, e.g. `connect.sid` for express-session's default or the app's own), or a bearer
 * token in `Authorization` (a JWT from the app's sign-in). Tools that test "accepts requests without
 * authentication" send the credential this names, so it must be the app's real one.
 *
 * @example
 * const cookie: OpenApiSecurity = { type: 'cookie', name: 'sid' };
 * const bearer: OpenApiSecurity = { type: 'bearer', bearerFormat: 'JWT' };
 */
export type OpenApiSecurity =
  | { type: 'cookie'; name: string; description?: string }
  | { type: 'bearer'; bearerFormat?: string; description?: string };

/** express-session's default cookie name: the most common sign-in of an Express app. */
export const DEFAULT_OPENAPI_SECURITY: OpenApiSecurity = { type: 'cookie', name: 'connect.sid' };

/**
 * Options of `createOpenApiDocument`.
 *
 * @example
 * const options: OpenApiOptions = { scopes: keyward.scopes, serverUrl: '/api/keys' };
 */
export interface OpenApiOptions {
  /**
   * The scope catalog: request bodies then list the scopes a key may hold (`enum`), and a public key's
   * scopes are limited to the public ceiling. Without it, scopes are any strings.
   */
  scopes?: OpenApiScopes;
  /**
   * The names of the app's plans (`keyward.plans`). The document is the customers': their request bodies
   * never carry `plan` (only the operator sets it, docs/reference.md §10), so the names only describe the
   * `Key`'s read-only `plan`.
   */
  plans?: readonly string[];
  /**
   * The URL the paths are relative to: where the router is mounted, e.g. `/api/keys` (a trailing `/` is
   * dropped, so `/{id}` resolves to `/api/keys/{id}`). The router serves the document with its mount path
   * (`req.baseUrl`).
   * @default "/"
   */
  serverUrl?: string;
  /**
   * How callers authenticate: the app's session cookie by name, or a bearer token.
   * @default { type: 'cookie', name: 'connect.sid' } (express-session's default cookie)
   */
  security?: OpenApiSecurity;
}

/**
 * The OpenAPI 3.1 document of the admin router (docs/reference.md §3), as the router serves it at
 * `GET <mount>/openapi.json`. Request bodies and the `Key` schema are generated from `@keyward/core`'s zod
 * schemas, the ones the service parses with, so the document and the server apply the same rules; the
 * scope catalog and the public ceiling are written in as `enum`s. Each call returns a fresh object.
 *
 * @example
 * const doc = createOpenApiDocument({ scopes: keyward.scopes, serverUrl: '/api/keys' });
 * doc.paths['/{id}/roll']; // { post: {...} }
 */
export function createOpenApiDocument(options: OpenApiOptions = {}): OpenApiDocument {
  const catalog = scopeLists(options.scopes);
  const security = securityScheme(options.security ?? DEFAULT_OPENAPI_SECURITY);
  const idParameter = { $ref: '#/components/parameters/KeyId' };
  const ifNoneMatch = { $ref: '#/components/parameters/IfNoneMatch' };
  const ifMatch = { $ref: '#/components/parameters/IfMatch' };
  const idempotencyKey = { $ref: '#/components/parameters/IdempotencyKey' };
  const auth = ['401', '403'];
  const faults = ['500', '503'];
  const withBody = ['400', '413', '415'];
  const capped = ['429'];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Keyward admin API',
      version: '1',
      description:
        "Manage one organization's API keys. The host app mounts the router (e.g. at `/api/keys`) and decides " +
        'who the caller is and which organization they act for; every route is confined to that organization. ' +
        'Every POST and PATCH carries `Content-Type: application/json` (an empty body too); bodies are at most ' +
        '16 kB and sent without `Content-Encoding`; a request that has nothing to change sends `{}`. POST, ' +
        'PATCH and DELETE requests from another site (`Sec-Fetch-Site`, `Origin`) are refused with 403. ' +
        'Responses carry `Cache-Control: no-store`. A method a path does not list is answered 405 ' +
        '`method_not_allowed` with an `Allow` header naming the methods it does (`components.responses.405`).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: serverUrl(options.serverUrl), description: 'Where the host app mounts the router.' }],
    security: [{ [security.name]: [] }],
    paths: {
      '/': {
        get: {
          operationId: 'listKeys',
          summary: "List the organization's keys, newest first, one page at a time",
          parameters: [...listQueryParameters(), ifNoneMatch],
          responses: {
            '200': cacheable(
              'One page of keys (deleted keys are never listed). Follow `nextCursor` for the next page.',
              ref('KeyList'),
            ),
            ...errors(['304', '400', ...auth, ...faults]),
          },
        },
        post: {
          operationId: 'createKey',
          summary: 'Create a key',
          requestBody: body(
            withPlans(withCreateRules(jsonSchema(createKeyInputSchema, 'input'), catalog), options.plans),
            'The new key. `scopes` defaults to every scope the key type may hold. `allowedOrigins` only on ' +
              'public keys (a secret key with origins: 400).',
          ),
          parameters: [idempotencyKey],
          responses: {
            '201': {
              ...json(
                'The key and its full token, shown this once (and to retries with the same `Idempotency-Key`).',
                ref('KeyWithToken'),
              ),
              links: keyLinks('$response.body#/data/id'),
            },
            ...errors([...withBody, ...auth, '409', '422', ...capped, ...faults]),
          },
        },
      },
      '/{id}': {
        parameters: [idParameter],
        get: {
          operationId: 'getKey',
          summary: 'Get a key',
          parameters: [ifNoneMatch],
          responses: {
            '200': cacheable('The key.', ref('KeyEnvelope')),
            ...errors(['304', ...auth, '404', ...faults]),
          },
        },
        patch: {
          operationId: 'updateKey',
          summary: 'Change name, scopes, expiry, disabled or policies',
          requestBody: body(
            withPlans(withScopes(jsonSchema(updateKeyInputSchema, 'input'), catalog.scopes), options.plans),
            'Any of the fields; `expiresAt: null` removes the expiry; `limits`, `allowedOrigins` and ' +
              '`allowedIps` replace the whole list (`[]` removes it). `{}` changes nothing. ' +
              "A public key's scopes must stay under the public ceiling (`GET /scopes`), and only public " +
              'keys take `allowedOrigins` (the type is not in the body: the server answers 400).',
          ),
          parameters: [ifMatch],
          responses: {
            '200': cacheable('The updated key.', ref('KeyEnvelope')),
            ...errors([...withBody, ...auth, '404', '409', '412', ...capped, ...faults]),
          },
        },
        delete: {
          operationId: 'deleteKey',
          summary: 'Delete a key: it stops working at once',
          parameters: [ifMatch],
          responses: {
            '204': { description: 'Deleted.' },
            ...errors([...auth, '404', '412', ...capped, ...faults]),
          },
        },
      },
      '/{id}/roll': {
        parameters: [idParameter],
        post: {
          operationId: 'rollKey',
          summary: 'Replace a key; the old one keeps working for a grace period',
          requestBody: body(
            jsonSchema(rollKeyInputSchema, 'input'),
            `\`{}\` for the defaults. \`gracePeriodSeconds\` defaults to ${DEFAULT_GRACE_PERIOD_SECONDS} ` +
              `(12 hours); 0 revokes the old key now; at most ${MAX_GRACE_PERIOD_SECONDS} (7 days).`,
          ),
          parameters: [ifMatch, idempotencyKey],
          responses: {
            '201': {
              ...cacheable(
                'The new key with its token, and the old key as it is now; `ETag` is the new key’s.',
                ref('RolledKey'),
              ),
              links: keyLinks('$response.body#/data/id'),
            },
            ...errors([...withBody, ...auth, '404', '409', '412', '422', ...capped, ...faults]),
          },
        },
      },
      '/events': {
        get: {
          operationId: 'listEvents',
          summary: "List the organization's audit events, newest first, one page at a time",
          description:
            'Every change to a key is recorded as one event (docs/reference.md §7), kept 400 days by default. ' +
            "Another organization's key id in `keyId` lists nothing. With `keyId` and `chain=true`, the events of " +
            "the key's whole roll chain: a roll records `key.rolled` (with `replacedBy`) on the old key and " +
            '`key.created` (with `rolledFrom`) on the new one, and the chain is followed through both.',
          parameters: [...listQueryParameters(listEventsQuerySchema), ifNoneMatch],
          responses: {
            '200': cacheable('One page of events. Follow `nextCursor` for the next page.', ref('EventList')),
            ...errors(['304', '400', ...auth, ...faults]),
          },
        },
      },
      '/scopes': {
        get: {
          operationId: 'getScopes',
          summary: 'The scope catalog: every scope a key may hold, and those public keys may hold',
          parameters: [ifNoneMatch],
          responses: {
            '200': cacheable('The scope catalog, in the order the app declares it.', ref('ScopeCatalog')),
            ...errors(['304', ...auth, '500']),
          },
        },
      },
      // Usage (docs/reference.md §9): its own block, in openapi-usage.ts.
      ...usagePaths(idParameter),
      '/non-compliant': {
        get: {
          operationId: 'listNonCompliantKeys',
          summary: 'The keys outside the lifetime policy, and why',
          description:
            "The organization's keys (not rolled, not deleted) whose expiry the lifetime policy would refuse " +
            'if it were written now: keys made before a tighter policy. Oldest first.',
          responses: {
            '200': {
              description: 'The keys outside the policy (empty when there is none, or no policy).',
              content: { 'application/json': { schema: ref('NonCompliantKeyList') } },
            },
            ...errors([...auth, ...faults]),
          },
        },
      },
      // Credits (docs/reference.md §10): in openapi-credits.ts.
      ...creditPaths(idParameter),
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          description: 'Served to anyone: it holds nothing of any organization.',
          security: [],
          parameters: [ifNoneMatch],
          responses: {
            '200': cacheable('The OpenAPI document.', ref('OpenApiDocument')),
            ...errors(['304']),
          },
        },
      },
    },
    components: {
      securitySchemes: { [security.name]: security.scheme },
      parameters: {
        KeyId: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'The key id, e.g. `key_0123456789ABCDEFGHIJ`. Malformed ids answer 404.',
          schema: { type: 'string' },
        },
        IfNoneMatch: {
          name: 'If-None-Match',
          in: 'header',
          required: false,
          description: 'The `ETag` of an earlier answer: 304 without a body while the answer is the same.',
          schema: { type: 'string' },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'Any unique string (1–255 printable ASCII characters, e.g. a UUID) to make a retry safe: the same ' +
            'key with the same request within 24 h answers the first answer (the same key and token) and ' +
            'does nothing again, on every instance; a duplicate sent while the first is in progress waits ' +
            'for its answer (409 after about 10 s). The same key with another request is 422. A refused ' +
            'request (4xx, 5xx) is not kept.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description:
            'The `ETag` of `GET /{id}` (or of a PATCH answer): the change is made only if the key has not ' +
            'been changed since (412 otherwise). Only its version part counts, so a use of the key ' +
            '(`lastUsedAt`) does not make it stale; weak tags (`W/`) never match; `*` matches any key.',
          schema: { type: 'string' },
        },
      },
      headers: {
        ETag: {
          description:
            "A validator of this answer (Express computes it from the body). On a key's answer it is " +
            'strong, `"<version>-<digest>"`: send it back as `If-Match` to change the key only if nobody ' +
            'else has since.',
          schema: { type: 'string' },
        },
      },
      schemas: {
        Key: keyComponent(),
        KeyEnvelope: envelope({ data: ref('Key') }),
        KeyList: envelope({
          data: { type: 'array', items: ref('Key') },
          nextCursor: {
            type: ['string', 'null'],
            description: 'Pass as `cursor` to get the next page; `null` on the last page.',
          },
        }),
        KeyWithToken: envelope({ data: ref('Key'), token: ref('Token') }),
        ...usageComponents(),
        ...creditComponents(),
        Event: eventComponent(),
        EventList: envelope({
          data: { type: 'array', items: ref('Event') },
          nextCursor: {
            type: ['string', 'null'],
            description: 'Pass as `cursor` to get the next page; `null` on the last page.',
          },
        }),
        NonCompliantKeyList: envelope({
          data: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'reason'],
              properties: {
                id: { type: 'string', description: "The key's id." },
                reason: { type: 'string', description: 'Why the key is outside the policy, for people.' },
              },
            },
          },
        }),
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
              grantableScopes: {
                ...scopeList,
                description:
                  'The scopes this admin API lets its callers grant (its `grantableScopes` option), in catalog order; absent when every scope may be granted.',
              },
            },
          },
        }),
        Token: {
          type: 'string',
          description: 'The full token, e.g. `kw_sk_` followed by 38 base62 characters.',
          pattern: '^[a-z][a-z0-9]{0,9}_(pk|sk)_[0-9A-Za-z]{38}$',
        },
        Error: errorSchema(),
        ErrorDetail: errorDetailSchema(),
        OpenApiDocument: {
          type: 'object',
          required: ['openapi', 'info', 'paths'],
          properties: {
            openapi: { type: 'string', pattern: '^3\\.1\\.[0-9]+$' },
            info: {
              type: 'object',
              required: ['title', 'version'],
              properties: { title: { type: 'string' }, version: { type: 'string' } },
            },
            servers: {
              type: 'array',
              items: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
            },
            paths: { type: 'object', additionalProperties: { type: 'object' } },
            components: { type: 'object', additionalProperties: { type: 'object' } },
          },
          description: 'An OpenAPI 3.1 document (https://spec.openapis.org/oas/3.1/schema/2022-10-07).',
        },
      },
      responses: {
        '304': {
          description: 'Not modified: `If-None-Match` names the current `ETag`. No body.',
          headers: { ETag: { $ref: '#/components/headers/ETag' } },
        },
        '400': errorResponse(
          'The body is not valid JSON or breaks a rule; `details` lists the problems (at most 20).',
          ['validation_error'],
        ),
        '401': errorResponse('The host app found nobody signed in.', ['unauthorized']),
        '403': errorResponse(
          'The host app refused the caller, or a POST, PATCH or DELETE came from another site.',
          ['forbidden'],
        ),
        '404': errorResponse("Unknown, malformed or deleted id, or another organization's key.", [
          'not_found',
        ]),
        '409': errorResponse(
          'The key cannot be changed this way in its current state (e.g. rolling a rolled, expired or ' +
            'disabled key, or giving a rolled key more time), the organization has as many keys as it ' +
            'may have (`maxKeysPerOrganization`), or a request with the same `Idempotency-Key` is still ' +
            'in progress.',
          ['conflict'],
        ),
        '412': errorResponse(
          'The key was changed since the `If-Match` tag was read (or the tag is weak or foreign): ' +
            'nothing was done. Read the key again.',
          ['precondition_failed'],
        ),
        '413': errorResponse('The body is larger than 16 kB.', ['payload_too_large']),
        '422': errorResponse(
          'The `Idempotency-Key` was used with another request (route, key or body) within 24 h.',
          ['idempotency_key_reused'],
        ),
        '415': errorResponse(
          'The request has no `Content-Type: application/json`, a charset other than UTF-8, or a ' +
            '`Content-Encoding`.',
          ['unsupported_media_type'],
        ),
        '429': {
          ...errorResponse(
            "Too many writes for the caller's organization this minute (the router's `writesPerMinute`, " +
              'default 120); retry after `Retry-After` seconds.',
            ['too_many_requests'],
          ),
          headers: {
            'Retry-After': {
              description: 'Seconds until the organization may write again.',
              schema: { type: 'integer', minimum: 0 },
            },
          },
        },
        '405': {
          ...errorResponse('The path exists, but not with this method.', ['method_not_allowed']),
          headers: {
            Allow: {
              description: 'The methods this path answers, e.g. `GET, HEAD, PATCH, DELETE`.',
              required: true,
              schema: { type: 'string' },
            },
          },
        },
        '500': errorResponse('A fault on the server; no details are given.', ['internal_error']),
        '503': errorResponse('The key store cannot be reached; try again shortly.', [
          'key_store_unavailable',
        ]),
      },
    },
  };
}

/**
 * The handler of `GET <mount>/openapi.json`: the document with the scope catalog of the router's service,
 * its server URL the path the router is mounted at (`req.baseUrl`) unless `serverUrl` is given. The
 * document is built once; only the server URL is filled in per request.
 *
 * @example
 * router.get('/openapi.json', createOpenApiHandler({ scopes: keyward.scopes }));
 */
export function createOpenApiHandler(options: OpenApiOptions = {}): RequestHandler {
  const { servers: _servers, ...document } = createOpenApiDocument(options);
  const fixed = options.serverUrl === undefined ? null : serverUrl(options.serverUrl);
  return function keywardAdminOpenApi(req, res) {
    const url = fixed ?? serverUrl(req.baseUrl);
    const servers = [{ url, description: 'Where the host app mounts the router.' }];
    const { openapi, info, ...rest } = document;
    res
      .set('Cache-Control', 'no-store')
      .type('application/json')
      .send(JSON.stringify({ openapi, info, servers, ...rest }));
  };
}

/** The security scheme's name in the document and the scheme itself. */
function securityScheme(security: OpenApiSecurity): { name: string; scheme: Record<string, unknown> } {
  const who =
    "Whoever the host app's `authorize(req)` accepts. Nobody signed in: 401; signed in but not allowed: 403.";
  if (security.type === 'bearer') {
    return {
      name: 'bearerAuth',
      scheme: {
        type: 'http',
        scheme: 'bearer',
        ...(security.bearerFormat && { bearerFormat: security.bearerFormat }),
        description: security.description ?? `The app's sign-in token in \`Authorization: Bearer\`. ${who}`,
      },
    };
  }
  return {
    name: 'session',
    scheme: {
      type: 'apiKey',
      in: 'cookie',
      name: security.name,
      description: security.description ?? `The app's session cookie \`${security.name}\`. ${who}`,
    },
  };
}

/**
 * The links of an answer that names a key (create, roll): where a client (or a stateful tester) goes next
 * with the key's id.
 */
function keyLinks(id: string) {
  const link = (operationId: string, description: string) => ({
    operationId,
    parameters: { id },
    description,
  });
  return {
    GetKey: link('getKey', 'Get the key just made.'),
    UpdateKey: link('updateKey', 'Change it.'),
    RollKey: link('rollKey', 'Roll it.'),
    DeleteKey: link('deleteKey', 'Delete it.'),
  };
}

/** `""` and `/` are the root; any other URL loses its trailing slashes (paths start with `/`). */
function serverUrl(url: string | undefined): string {
  const trimmed = (url ?? '').replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

function scopeLists(scopes: OpenApiScopes | undefined): { scopes?: string[]; publicScopes?: string[] } {
  if (scopes === undefined) return {};
  if ('catalog' in scopes) return { scopes: [...scopes.catalog], publicScopes: [...scopes.publicCeiling] };
  return { scopes: [...scopes.scopes], publicScopes: [...(scopes.publicScopes ?? [])] };
}

type JsonSchema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

/** A zod schema of core as JSON Schema 2020-12, without `$schema` (OpenAPI 3.1 sets the dialect). */
function jsonSchema(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' });
  return rest as JsonSchema;
}

/**
 * The query parameters of `GET /`, one per property of core's `listKeysQuerySchema` (or of another
 * paged list's query schema, e.g. `listEventsQuerySchema` for `GET /events`).
 */
function listQueryParameters(query: ZodType = listKeysQuerySchema) {
  const schema = jsonSchema(query, 'input');
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: 'query',
      required: false,
      ...(typeof description === 'string' && { description }),
      schema: name === 'limit' ? { ...rest, default: DEFAULT_PAGE_SIZE } : rest,
    };
  });
}

/** `scopes` items limited to `allowed` (none at all when it is empty). */
function scopeItems(allowed: string[]) {
  return allowed.length === 0 ? { maxItems: 0 } : { items: { type: 'string', enum: allowed } };
}

function withScopes(schema: JsonSchema, catalog: string[] | undefined): JsonSchema {
  if (catalog === undefined || !schema.properties?.scopes) return schema;
  const { items: _items, ...scopes } = schema.properties.scopes;
  return {
    ...schema,
    properties: { ...schema.properties, scopes: { ...scopes, ...scopeItems(catalog) } },
  };
}

/**
 * A request body without `plan`: customers may not set it (docs/reference.md §10; the router answers 400), so the
 * customers' document leaves it out. `plans` (the app's plan names) are not listed: nothing they send names one.
 */
function withPlans(schema: JsonSchema, _plans: readonly string[] | undefined): JsonSchema {
  if (!schema.properties?.plan) return schema;
  const { plan: _plan, ...properties } = schema.properties;
  return { ...schema, properties };
}

/**
 * Create: the catalog for every key; no `allowedOrigins` on a secret key; and the public ceiling when
 * `type` is `public` (each rule one `if`/`then` of an `allOf`).
 */
function withCreateRules(
  schema: JsonSchema,
  { scopes, publicScopes }: { scopes?: string[]; publicScopes?: string[] },
): JsonSchema {
  const withCatalog = withScopes(schema, scopes);
  const rules: JsonSchema[] = [secretKeysTakeNoOrigins()];
  if (publicScopes !== undefined) {
    rules.push({
      if: { type: 'object', required: ['type'], properties: { type: { const: 'public' } } },
      // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
      then: { type: 'object', properties: { scopes: { type: 'array', ...scopeItems(publicScopes) } } },
    });
  }
  return { ...withCatalog, allOf: rules };
}

/** Origins are for browsers, and only public keys are used from browsers: a secret key's list is empty. */
function secretKeysTakeNoOrigins(): JsonSchema {
  return {
    if: { type: 'object', required: ['type'], properties: { type: { const: 'secret' } } },
    // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
    then: { type: 'object', properties: { allowedOrigins: { type: 'array', maxItems: 0 } } },
  };
}

/** The `Key` component: core's `keySchema`, and the rule that only public keys carry their token. */
function keyComponent(): JsonSchema {
  const generated = jsonSchema(keySchema, 'output') as { $defs?: Record<string, JsonSchema> };
  const key = generated.$defs?.Key;
  if (!key) throw new Error('Keyward admin: keySchema has no `Key` id');
  return {
    ...key,
    if: { type: 'object', required: ['type'], properties: { type: { const: 'secret' } } },
    // biome-ignore lint/suspicious/noThenProperty: `then` is a JSON Schema keyword.
    then: { type: 'object', properties: { token: false, allowedOrigins: { type: 'array', maxItems: 0 } } },
  };
}

/** The `Event` component: core's `keyEventSchema` (docs/reference.md §7). */
function eventComponent(): JsonSchema {
  const generated = jsonSchema(keyEventSchema, 'output') as { $defs?: Record<string, JsonSchema> };
  const event = generated.$defs?.Event;
  if (!event) throw new Error('Keyward admin: keyEventSchema has no `Event` id');
  return event;
}

function ref(name: string) {
  return { $ref: `#/components/schemas/${name}` };
}

function json(description: string, schema: unknown) {
  return { description, content: { 'application/json': { schema } } };
}

/** A 200 answer to a GET: Express adds an `ETag`, and answers 304 to a matching `If-None-Match`. */
function cacheable(description: string, schema: unknown) {
  return { ...json(description, schema), headers: { ETag: { $ref: '#/components/headers/ETag' } } };
}

function errors(statuses: string[]) {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: `#/components/responses/${status}` }]));
}

/** Every body is required: the router needs `Content-Type: application/json` on each POST and PATCH. */
function body(schema: JsonSchema, description: string) {
  return { description, required: true, content: { 'application/json': { schema } } };
}

function envelope(properties: Record<string, unknown>) {
  return { type: 'object', additionalProperties: false, required: Object.keys(properties), properties };
}

const scopeList = { type: 'array', items: { type: 'string' }, uniqueItems: true };

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
          details: { type: 'array', maxItems: MAX_ERROR_DETAILS, items: ref('ErrorDetail') },
        },
      },
    },
  };
}

function errorDetailSchema() {
  return {
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
  };
}

function errorResponse(description: string, codes: string[]) {
  const validation = codes.includes('validation_error');
  const error = {
    type: 'object',
    properties: {
      code: { type: 'string', enum: codes },
      details: validation
        ? { type: 'array', minItems: 1, maxItems: MAX_ERROR_DETAILS, items: ref('ErrorDetail') }
        : false,
    },
    ...(validation ? { required: ['details'] } : {}),
  };
  return json(description, { allOf: [ref('Error'), { type: 'object', properties: { error } }] });
}
