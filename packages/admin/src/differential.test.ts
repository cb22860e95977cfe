// Differential property tests: the served OpenAPI document and the server agree. Bodies generated from the
// document's request schemas are accepted (2xx); bodies generated broadly (arbitrary JSON and near-misses
// of every rule) are accepted exactly when they validate under the document, modulo the one rule the
// document cannot state (an `expiresAt` in the future depends on the clock), plus, on PATCH of a public
// key, the public ceiling (the key's type is not in the body); and the policy rules JSON Schema cannot
// state: an `allowedIps` entry must be an address or CIDR range (the document has its shape), windows of
// `limits` distinct, secret keys take no `allowedOrigins` on PATCH (the type is not in the body), and the
// part of the name rule no portable regex states (its `pattern` is the flag-free part; the exact rule is
// `x-pattern-ecmascript`). Every pattern is compiled without flags, as Python and RE2 tools would. Every
// response validates against the document's response schema. The create answer's `links` are followed:
// get, patch, roll and delete of the id it names, in random orders, every answer as documented.
import {
  DATE_TIME_PATTERN,
  isIpOrCidr,
  keyNameSchema,
  NAME_PORTABLE_PATTERN,
  ORIGIN_PATTERN,
} from '@keyward/core/schemas';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { JsonSchemaNode as Schema } from './json-schema.js';
import type { OpenApiDocument } from './openapi.js';
import { PUBLIC_SCOPES, START, setup } from './test-app.js';
import { documentValidator, type Method, requestBodySchema, requestBodyValidator } from './test-openapi.js';

const RUNS = Number(process.env.KEYWARD_DIFF_RUNS ?? 150);
/** A generous limit for a whole property (hundreds of requests), not a timed assertion. */
const TIMEOUT = 120_000;

/** Requests sent per property, reported once at the end (the figures a fuzzer run would quote). */
const CASES: Record<string, number> = {};
const count = (name: string) => {
  CASES[name] = (CASES[name] ?? 0) + 1;
};
afterAll(() => {
  const total = Object.values(CASES).reduce((a, b) => a + b, 0);
  console.log(
    `[differential] ${total} requests:\n${Object.entries(CASES)
      .map(([k, v]) => `  ${v}  ${k}`)
      .join('\n')}`,
  );
});

// ---------------------------------------------------------------------------------------------------
// Strings near every rule

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const digits = (n: number) => fc.string({ unit: pick(...'0123456789'), minLength: n, maxLength: n });
const pad2 = (n: number) => String(n).padStart(2, '0');

/** A code point of a name that is fine: letters, digits, CJK, emoji (astral), inner spaces. */
const goodChar = fc.oneof(
  { weight: 6, arbitrary: pick(...'abcXYZ019-_.') },
  pick('é', 'ß', '名', '鍵', 'Ω', '😀', '🔑', '👍'),
  pick(' ', '\u00A0'),
);
/** A character a name must not hold, or that is invisible, or an edge case of trimming. */
const oddChar = pick(
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\r',
  '\u007F',
  '\u0085',
  '\u202A',
  '\u202E',
  '\u2066',
  '\u2069',
  '\u200B',
  '\u200D',
  '\u2060',
  '\uFEFF',
  '\u00AD',
  '\uD800',
  '\uDFFF',
  '\u0301',
  '\u3000',
  '\u2028',
  '\u180E',
  '🏽',
  ' ',
);
const spaces = fc.string({ unit: pick(' ', '\t', '\n', '\u00A0', '\u3000', '\uFEFF'), maxLength: 3 });

/** Names the document should accept: 1 to 100 good code points, maybe with white space around. */
const validName = fc
  .tuple(spaces, goodChar, fc.array(goodChar, { maxLength: 99 }), spaces)
  .map(([before, first, rest, after]) => before + first + rest.join('') + after);

/** Names near the rules: lengths around 100 code points, odd characters anywhere, any string. */
const nearName = fc.oneof(
  validName,
  fc
    .tuple(
      spaces,
      fc.array(fc.oneof({ weight: 8, arbitrary: goodChar }, oddChar), { minLength: 0, maxLength: 6 }),
      spaces,
    )
    .map(([a, chars, b]) => a + chars.join('') + b),
  fc
    .tuple(spaces, fc.integer({ min: 97, max: 103 }), pick('a', '😀', 'é', ' a'), fc.option(oddChar), spaces)
    .map(([a, n, unit, odd, b]) => a + unit.repeat(n) + (odd ?? '') + b),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

/** RFC 3339 date-times the document should accept, all in the future (after 2030-01-01). */
const futureDate = fc
  .record({
    year: fc.integer({ min: 2031, max: 9998 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.integer({ min: 1, max: 9 }).chain(digits)),
    offset: fc.oneof(
      fc.constant('Z'),
      fc
        .tuple(pick('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, h, m]) => `${sign}${pad2(h)}:${pad2(m)}`),
    ),
  })
  .map(
    (d) =>
      `${String(d.year).padStart(4, '0')}-${pad2(d.month)}-${pad2(d.day)}T${pad2(d.hour)}:${pad2(d.minute)}:` +
      `${pad2(d.second)}${d.fraction === null ? '' : `.${d.fraction}`}${d.offset}`,
  );

/** Date-times near the rules: odd years, days, offsets, separators, fractions, leap days. */
const nearDate = fc.oneof(
  futureDate,
  fc
    .record({
      year: pick(
        '0000',
        '0001',
        '1999',
        '2000',
        '2029',
        '2030',
        '2031',
        '2032',
        '2100',
        '2400',
        '9998',
        '9999',
        '10000',
      ),
      month: pick('00', '01', '02', '04', '12', '13'),
      day: pick('00', '01', '28', '29', '30', '31', '32'),
      sep: pick('T', 't', ' '),
      hour: pick('00', '12', '23', '24'),
      minute: pick('00', '59', '60'),
      second: pick('00', '59', '60'),
      fraction: fc.oneof(
        fc.constant(''),
        fc.integer({ min: 0, max: 12 }).chain((n) => digits(n).map((d) => `.${d}`)),
      ),
      offset: pick(
        'Z',
        'z',
        '',
        '+00:00',
        '-00:00',
        '-23:59',
        '+23:59',
        '+24:00',
        '+05:30',
        '+0530',
        '+05',
        '-12:60',
      ),
    })
    .map(
      (d) => `${d.year}-${d.month}-${d.day}${d.sep}${d.hour}:${d.minute}:${d.second}${d.fraction}${d.offset}`,
    ),
  pick(
    '2031-01-01',
    '2031-01-01T00:00Z',
    'next tuesday',
    '',
    '2031-01-01T00:00:00.Z',
    '9999-12-31T23:59:59-23:59',
  ),
  fc.string({ maxLength: 30 }),
);

/** Origins, wildcards and their near misses (a path, upper case, a bare wildcard, a port out of range). */
const nearOrigin = fc.oneof(
  pick('https://app.example.com', 'http://localhost:3000', 'https://*.example.com', 'capacitor://localhost'),
  pick(
    'https://app.example.com/',
    'HTTPS://APP.EXAMPLE.COM',
    'https://*',
    'https://*.com',
    'https://a:65536',
  ),
  fc.webUrl(),
  fc.string({ maxLength: 12 }),
);
/** Addresses, ranges and near misses (prefixes out of range, host names, garbage). */
const nearIp = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 40 })).map(([ip, n]) => `${ip}/${n}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 140 })).map(([ip, n]) => `${ip}/${n}`),
  pick('256.1.1.1', 'example.com', '10.0.0.0/', '::g', ''),
  fc.string({ maxLength: 12 }),
);
const nearLimit = fc.record(
  {
    limit: fc.oneof(fc.integer({ min: -1, max: 5 }), pick<unknown>(1e9, 1e9 + 1, 1.5, '10', null)),
    windowSeconds: fc.oneof(fc.integer({ min: -1, max: 3 }), pick<unknown>(2_678_400, 2_678_401, 0.5)),
    burst: fc.integer(),
  },
  { requiredKeys: [] },
);

// ---------------------------------------------------------------------------------------------------
// Bodies from the document's schemas

/** An arbitrary of the values `schema` describes (a superset where a rule is not expressible; the
 * document's validator then filters). */
function fromSchema(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(fromSchema));
  if (Array.isArray(schema.type))
    return fc.oneof(...schema.type.map((type) => fromSchema({ ...schema, type })));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6 });
    case 'string':
      if (schema.pattern === NAME_PORTABLE_PATTERN.source) return validName;
      if (schema.pattern === DATE_TIME_PATTERN.source || schema.format === 'date-time') return futureDate;
      if (schema.pattern === ORIGIN_PATTERN.source) return nearOrigin;
      if (schema.examples?.includes('10.0.0.0/8')) return nearIp;
      return fc.string();
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}), { maxLength: schema.maxItems ?? 4 });
    case 'object': {
      const properties = Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([name, field]) => [name, fromSchema(field)]),
      );
      return fc.record(properties, { requiredKeys: schema.required ?? [] });
    }
    default:
      return fc.jsonValue();
  }
}

/** Values near the rules for each field the API knows, and anything JSON can hold. */
const nearValue = (field: string): fc.Arbitrary<unknown> => {
  const byField: Record<string, fc.Arbitrary<unknown>> = {
    name: nearName,
    type: pick('public', 'secret', 'Public', 'root', ''),
    scopes: fc.oneof(
      fc.array(pick('snippets:read', 'snippets:write', 'billing:read', 'nope', '', 'SNIPPETS:READ'), {
        maxLength: 5,
      }),
      fc.array(fc.jsonValue(), { maxLength: 3 }),
    ),
    expiresAt: fc.oneof({ weight: 4, arbitrary: nearDate }, fc.constant(null), fc.jsonValue()),
    disabled: fc.oneof(fc.boolean(), pick<unknown>('true', 0, 1, null)),
    gracePeriodSeconds: fc.oneof(
      fc.integer({ min: -2, max: 604_802 }),
      pick<unknown>(0, 604_800, 604_801, -1, 1.5, 1e21, '60', null, true),
    ),
    limits: fc.oneof(fc.array(nearLimit, { maxLength: 4 }), fc.constant([])),
    allowedOrigins: fc.oneof(fc.array(nearOrigin, { maxLength: 3 }), fc.constant([])),
    allowedIps: fc.oneof(fc.array(nearIp, { maxLength: 3 }), fc.constant([])),
  };
  return fc.oneof(
    {
      weight: 4,
      arbitrary: Object.hasOwn(byField, field) ? (byField[field] as fc.Arbitrary<unknown>) : fc.jsonValue(),
    },
    fc.jsonValue(),
  );
};

const FIELDS = [
  'name',
  'type',
  'scopes',
  'expiresAt',
  'disabled',
  'gracePeriodSeconds',
  'limits',
  'allowedOrigins',
  'allowedIps',
  'extra',
  '__proto__',
];

/** Bodies generated broadly: objects with (mostly) the API's fields, arbitrary JSON, and nothing. */
const broadBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .dictionary(fc.constantFrom(...FIELDS), fc.constant(null), { maxKeys: 5 })
      .chain((keys) => fc.record(Object.fromEntries(Object.keys(keys).map((k) => [k, nearValue(k)])))),
  },
  fc.jsonValue(),
  fc.constant(undefined),
);

/** A valid body with up to two fields replaced by near values, or dropped: the near misses of each rule. */
function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.subarray(FIELDS, { maxLength: 2 }), fc.boolean()).chain(([body, fields, drop]) =>
    fc.tuple(...fields.map((field) => nearValue(field))).map((values) => {
      const out: Record<string, unknown> = { ...(body as Record<string, unknown>) };
      fields.forEach((field, i) => {
        if (drop && i === 0) delete out[field];
        else Object.defineProperty(out, field, { value: values[i], enumerable: true, writable: true });
      });
      return out;
    }),
  );
}

/** What the server reads: the body after a JSON round trip (`undefined`: no body). */
const wire = (body: unknown) => (body === undefined ? undefined : JSON.parse(JSON.stringify(body)));

/** Whether the clock refuses `expiresAt` (not in the future): the rule the document cannot state. */
function clockRefuses(body: unknown): boolean {
  const expiresAt = (body as { expiresAt?: unknown } | null)?.expiresAt;
  return typeof expiresAt === 'string' && !(Date.parse(expiresAt) > START);
}

async function served(context: ReturnType<typeof setup>): Promise<OpenApiDocument> {
  return (await context.as(null).get('/openapi.json')).body;
}

function send(context: ReturnType<typeof setup>, method: 'post' | 'patch', path: string, body: unknown) {
  const test = method === 'post' ? context.api.post(path) : context.api.patch(path);
  // No body: no body and no content type (the document requires one: 415).
  if (body === undefined) return test.unset('Content-Type');
  return test.set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** The part of the name rule the document only describes (`x-pattern-ecmascript`), on a body it accepts. */
const nameRefuses = (body: unknown) => {
  const name = (body as { name?: unknown } | null)?.name;
  return typeof name === 'string' && !keyNameSchema.safeParse(name).success;
};

interface Route {
  name: string;
  method: Method & ('post' | 'patch');
  path: string;
  /** The request's path for this case, creating the key it is about. */
  target: (context: ReturnType<typeof setup>) => Promise<string>;
  /** Extra refusals the document cannot state for this route (besides the clock). */
  refusedAnyway?: (body: unknown) => boolean;
}

const overCeiling = (body: unknown) => {
  const scopes = (body as { scopes?: unknown } | null)?.scopes;
  return Array.isArray(scopes) && scopes.some((scope) => !PUBLIC_SCOPES.includes(scope as string));
};

/** The policy rules the document cannot state (on a body the document accepts). */
const policyRefuses = (body: unknown, type: 'public' | 'secret' | undefined) => {
  const fields = (body ?? {}) as { limits?: { windowSeconds: number }[]; allowedIps?: string[] };
  const windows = fields.limits?.map((l) => l.windowSeconds) ?? [];
  const origins = (body as { allowedOrigins?: unknown[] } | null)?.allowedOrigins ?? [];
  // `type`: the key's type when the body cannot say it (PATCH); on create the document states the rule.
  const bodyType = type;
  return (
    nameRefuses(body) ||
    new Set(windows).size !== windows.length ||
    (fields.allowedIps ?? []).some((entry) => !isIpOrCidr(entry)) ||
    (bodyType === 'secret' && origins.length > 0)
  );
};

const ROUTES: Route[] = [
  {
    name: 'POST /',
    method: 'post',
    path: '/',
    target: async () => '',
    // The create body states "no origins on secret keys" itself (`if`/`then`).
    refusedAnyway: (body) => policyRefuses(body, undefined),
  },
  {
    name: 'PATCH /{id} of a secret key',
    method: 'patch',
    path: '/{id}',
    target: async (c) => `/${(await c.createKey('org_a', { name: 'S', type: 'secret' })).key.id}`,
    refusedAnyway: (body) => policyRefuses(body, 'secret'),
  },
  {
    name: 'PATCH /{id} of a public key',
    method: 'patch',
    path: '/{id}',
    target: async (c) => `/${(await c.createKey('org_a', { name: 'P', type: 'public' })).key.id}`,
    refusedAnyway: (body) => overCeiling(body) || policyRefuses(body, 'public'),
  },
  {
    name: 'POST /{id}/roll',
    method: 'post',
    path: '/{id}/roll',
    target: async (c) => `/${(await c.createKey('org_a', { name: 'R', type: 'secret' })).key.id}/roll`,
  },
];

/**
 * A fresh app without the write cap (hundreds of writes: the cap has its own tests), and what the document
 * it serves says of `route`: its body validator, its response checker, and bodies generated from it.
 */
async function routeUnderTest(route: Route) {
  const context = setup({ writesPerMinute: false });
  const doc = await served(context);
  return {
    context,
    valid: requestBodyValidator(doc, route.method, route.path),
    checkResponse: documentValidator(doc),
    generated: fromSchema(requestBodySchema(doc, route.method, route.path) as Schema),
  };
}

describe.each(ROUTES)('$name: the server and the OpenAPI document agree', (route) => {
  it(
    'accepts every body generated from the document (2xx), and answers as documented',
    async () => {
      const { context, valid, checkResponse, generated } = await routeUnderTest(route);
      const bodies = generated.filter((body) => valid(wire(body)) && !route.refusedAnyway?.(wire(body)));
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          count(`${route.name}: bodies generated from the document`);
          const res = await send(context, route.method, await route.target(context), body);
          expect(checkResponse(route.method, route.path, res)).toEqual([]);
          expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'accepts a broadly generated body exactly when the document does (modulo the clock)',
    async () => {
      const { context, valid, checkResponse, generated } = await routeUnderTest(route);
      let accepted = 0;
      let refused = 0;
      const bodies = fc.oneof(broadBody, mutated(generated));
      const [acceptable] = fc.sample(
        generated.filter((body) => {
          const read = wire(body);
          return valid(read) && !clockRefuses(read) && !route.refusedAnyway?.(read);
        }),
        1,
      );
      await fc.assert(
        fc.asyncProperty(bodies, async (body) => {
          count(`${route.name}: broad and near-miss bodies`);
          const read = wire(body);
          const expected = valid(read) && !clockRefuses(read) && !route.refusedAnyway?.(read);
          const res = await send(context, route.method, await route.target(context), body);
          expect(checkResponse(route.method, route.path, res)).toEqual([]);
          expect(res.status < 300, `${res.status} ${JSON.stringify(read)} ${JSON.stringify(res.body)}`).toBe(
            expected,
          );
          // A missing body is a missing `Content-Type: application/json`: 415; a bad one 400.
          if (!expected) expect(res.status).toBe(read === undefined ? 415 : 400);
          if (expected) accepted++;
          else refused++;
        }),
        // Both sides always run, however few generated bodies (KEYWARD_DIFF_RUNS): one body the document
        // accepts, and no body at all.
        { numRuns: RUNS * 2, examples: [[acceptable], [undefined]] },
      );
      // Both sides of the comparison were exercised.
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});

describe.each(ROUTES)('$name: an absent body is answered as the document requires', (route) => {
  it('refuses no body and an empty JSON body (4xx, documented) when the body is required, else accepts them', async () => {
    const context = setup({ writesPerMinute: false });
    const doc = await served(context);
    const checkResponse = documentValidator(doc);
    const operation = (doc.paths[route.path] as Record<string, { requestBody?: { required?: boolean } }>)[
      route.method
    ];
    const required = operation?.requestBody?.required === true;
    const absent = await send(context, route.method, await route.target(context), undefined);
    const emptyJson = await send(context, route.method, await route.target(context), undefined)
      .set('Content-Type', 'application/json')
      .set('Content-Length', '0');
    for (const [what, res] of [
      ['no body', absent],
      ['an empty JSON body', emptyJson],
    ] as const) {
      count(`${route.name}: absent bodies`);
      expect(checkResponse(route.method, route.path, res), what).toEqual([]);
      if (required) {
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
      } else if (route.path !== '/')
        expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    }
  });
});

describe('known disagreements between document and server, case by case', () => {
  // [case, fields, the server accepts, the document (portable rules) accepts]
  const cases: Array<[string, Record<string, unknown>, boolean, boolean?]> = [
    ['an expiresAt of year 9999 with offset -23:59', { expiresAt: '9999-12-31T23:59:59-23:59' }, false],
    ['a name of 100 emoji', { name: '😀'.repeat(100) }, true],
    ['a name of 100 characters with spaces around', { name: `  ${'a'.repeat(100)}  ` }, true],
    // Over 100 after trimming: only the exact rule (`x-pattern-ecmascript`, described) says so.
    ['a name of 101 characters', { name: 'a'.repeat(101) }, false, true],
    ['a name of 401 code points as sent', { name: `${' '.repeat(400)}a` }, false],
    ['a name with a bidi override', { name: 'evil\u202Etxt' }, false],
    ['a name with a C1 control', { name: 'a\u0085b' }, false],
    ['a name of 100 decomposed characters (200 code points as sent)', { name: 'e\u0301'.repeat(100) }, true],
    ['an expiresAt with 9 fractional digits', { expiresAt: '2031-01-01T00:00:00.123456789Z' }, true],
    ['an expiresAt with 10 fractional digits', { expiresAt: '2031-01-01T00:00:00.1234567890Z' }, false],
    ['an expiresAt with a lowercase t and z', { expiresAt: '2031-01-01t00:00:00z' }, false],
    ['an expiresAt on 29 February of a leap year', { expiresAt: '2032-02-29T00:00:00Z' }, true],
    ['an expiresAt on 29 February of another year', { expiresAt: '2031-02-29T00:00:00Z' }, false],
  ];

  it.each(cases)('%s: the document and POST / agree', async (_case, fields, ok, documentOk = ok) => {
    const context = setup({ writesPerMinute: false }); // hundreds of writes: the cap has its own tests
    const doc = await served(context);
    const body = { name: 'Key', type: 'secret', ...fields };
    expect(requestBodyValidator(doc, 'post', '/')(body)).toBe(documentOk);
    const res = await send(context, 'post', '', body);
    expect(res.status).toBe(ok ? 201 : 400);
    expect(documentValidator(doc)('post', '/', res)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Links: create → get / patch / roll / delete of the id the answer names

type Link = { operationId: string; parameters: Record<string, string> };

/** The operation of `operationId`: its method and path. */
function operationById(doc: OpenApiDocument, operationId: string): { method: Method; path: string } {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, { operationId?: string }>)) {
      if (op.operationId === operationId) return { method: method as Method, path };
    }
  }
  throw new Error(`no operation ${operationId}`);
}

/** A runtime expression `$response.body#/json/pointer` against an answer's body. */
function evaluate(expression: string, body: unknown): unknown {
  const match = /^\$response\.body#(\/.*)$/.exec(expression);
  if (!match?.[1]) throw new Error(`unsupported runtime expression ${expression}`);
  return match[1]
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], body);
}

function withoutOrigins(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const { allowedOrigins: _origins, ...rest } = body as Record<string, unknown>;
  return rest;
}

describe('the links of the document: create, then what the answer links to', () => {
  it('names get, patch, roll and delete on the create and roll answers, by the id in the body', async () => {
    const doc = await served(setup());
    const ops = ['getKey', 'updateKey', 'rollKey', 'deleteKey'];
    for (const [path, method] of [
      ['/', 'post'],
      ['/{id}/roll', 'post'],
    ] as const) {
      const links = (
        doc.paths[path] as Record<string, { responses: Record<string, { links?: Record<string, Link> }> }>
      )[method]?.responses['201']?.links;
      expect(
        Object.values(links ?? {})
          .map((link) => link.operationId)
          .sort(),
      ).toEqual([...ops].sort());
      for (const link of Object.values(links ?? {})) {
        expect(link.parameters).toEqual({ id: '$response.body#/data/id' });
        expect(operationById(doc, link.operationId).path).toMatch(/\{id\}/);
      }
    }
  });

  it(
    'follows them in random orders with bodies from the document; every answer is documented',
    async () => {
      const context = setup({ writesPerMinute: false }); // hundreds of writes: the cap has its own tests
      const doc = await served(context);
      const checkResponse = documentValidator(doc);
      const createLinks = (
        doc.paths['/'] as { post: { responses: { '201': { links: Record<string, Link> } } } }
      ).post.responses['201'].links;
      // Validators compile the whole document: built once per operation, not per generated body.
      const bodyFor = (operationId: string) => {
        const { method, path } = operationById(doc, operationId);
        if (method !== 'post' && method !== 'patch') return fc.constant(undefined);
        const valid = requestBodyValidator(doc, method, path);
        // The keys made here are secret: no origins (dropped rather than filtered, to keep rejections rare).
        return fromSchema(requestBodySchema(doc, method, path) as Schema)
          .map(withoutOrigins)
          .filter(
            (body) => valid(wire(body)) && !policyRefuses(wire(body), 'secret') && !clockRefuses(wire(body)),
          );
      };
      const validCreate = requestBodyValidator(doc, 'post', '/');
      const createBodies = fromSchema(requestBodySchema(doc, 'post', '/') as Schema)
        .map((body) => ({ ...(withoutOrigins(body) as object), type: 'secret' }))
        .filter((body) => validCreate(body) && !policyRefuses(body, undefined) && !clockRefuses(body));
      const stepBodies = Object.fromEntries(
        Object.entries(createLinks).map(([name, link]) => [name, bodyFor(link.operationId)]),
      );
      const step = fc
        .constantFrom(...Object.keys(createLinks))
        .chain((name) => (stepBodies[name] as fc.Arbitrary<unknown>).map((body) => ({ name, body })));
      await fc.assert(
        fc.asyncProperty(
          createBodies,
          fc.array(step, { minLength: 1, maxLength: 4 }),
          async (create, steps) => {
            count('links: create');
            const created = await send(context, 'post', '', create);
            expect(checkResponse('post', '/', created)).toEqual([]);
            expect(created.status).toBe(201);
            let deleted = false;
            for (const [index, { name, body }] of steps.entries()) {
              count(`links: ${name}`);
              const link = createLinks[name] as Link;
              const { method, path } = operationById(doc, link.operationId);
              const id = evaluate(link.parameters.id as string, created.body);
              expect(id).toEqual(expect.stringMatching(/^key_/));
              const url = path.replace('{id}', String(id));
              const res =
                method === 'get'
                  ? await context.api.get(url)
                  : method === 'delete'
                    ? await context.api.delete(url)
                    : await send(context, method as 'post' | 'patch', url, body);
              expect(checkResponse(method, path, res), `${name} ${res.status}`).toEqual([]);
              if (deleted) expect(res.status).toBe(404);
              // The first step acts on the fresh key: it succeeds.
              if (index === 0) expect(res.status, `${name} ${JSON.stringify(res.body)}`).toBeLessThan(300);
              if (name === 'DeleteKey' && res.status === 204) deleted = true;
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
