// The demo's /v1 OpenAPI document: valid OpenAPI 3.1 (Redocly's recommended rules, no errors), and every
// kind of answer /v1 gives validates against it (status documented, documented headers present, body
// valid under ajv with the whole document loaded, so the `$ref`s into apiKeyOpenApiComponents resolve).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKeyStore } from '@keyward/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import request, { type Response } from 'supertest';
import { describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';
import { createV1OpenApiDocument } from './v1-openapi.js';

const addFormats = ajvFormats as unknown as typeof ajvFormats.default;
type Doc = ReturnType<typeof createV1OpenApiDocument>;

function validator(doc: Doc) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true, unicodeRegExp: false });
  addFormats(ajv);
  ajv.addVocabulary(['openapi', 'info', 'servers', 'security', 'paths', 'components']);
  ajv.addSchema(doc, 'v1.json');
  const pointerEscape = (p: string) => p.replaceAll('~', '~0').replaceAll('/', '~1');
  return (method: string, path: string, res: Response): string[] => {
    const operation = (
      doc.paths as Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>
    )[path]?.[method];
    const response = operation?.responses[String(res.status)];
    if (!response) return [`${method} ${path} does not document ${res.status}`];
    let pointer = `/paths/${pointerEscape(path)}/${method}/responses/${res.status}`;
    let resolved = response as { headers?: Record<string, unknown> };
    if (response.$ref) {
      pointer = response.$ref.slice(1);
      resolved = (doc.components.responses as Record<string, typeof resolved>)[
        response.$ref.split('/').pop() as string
      ] as typeof resolved;
    }
    const problems = Object.keys(resolved.headers ?? {})
      .filter((name) => res.headers[name.toLowerCase()] === undefined)
      .map((name) => `header ${name} missing`);
    const validate = ajv.getSchema(`v1.json#${pointer}/content/application~1json/schema`);
    if (!validate) return [...problems, `no schema at ${pointer}`];
    if (!validate(res.body))
      problems.push(...(validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
    return problems;
  };
}

async function signedUp() {
  const { app, keyward } = createDemoApp({ store: new MemoryKeyStore() });
  const agent = request.agent(app);
  const res = await agent.post('/signup').send({ organization: 'Acme' });
  const org: string = res.body.organization.id;
  const secret = async (options: Record<string, unknown> = {}) =>
    (await keyward.createKey(org, { name: 'Server', type: 'secret', ...options })).token;
  return { app, publicToken: res.body.defaultKey.token as string, secret };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('GET /v1/openapi.json', () => {
  it('is served without a key, and is the document createV1OpenApiDocument builds', async () => {
    const { app } = await signedUp();
    const res = await request(app).get('/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(createV1OpenApiDocument())));
    expect(res.body.components.securitySchemes).toMatchObject({
      ApiKeyBearer: { type: 'http', scheme: 'bearer' },
      ApiKeyHeader: { in: 'header', name: 'X-API-Key' },
    });
  });

  it('is valid OpenAPI 3.1 under Redocly recommended rules', () => {
    const folder = mkdtempSync(join(tmpdir(), 'keyward-v1-openapi-'));
    try {
      const file = join(folder, 'v1.json');
      writeFileSync(file, JSON.stringify(createV1OpenApiDocument(), null, 2));
      const result = spawnSync('redocly', ['lint', '--extends', 'recommended', '--format', 'summary', file], {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      });
      expect(result.error).toBeUndefined();
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it.each<[string, string, string, number, (c: Awaited<ReturnType<typeof signedUp>>) => Promise<Response>]>([
    [
      'get',
      '/whoami',
      'a public key',
      200,
      (c) => request(c.app).get('/v1/whoami').set(bearer(c.publicToken)),
    ],
    ['get', '/whoami', 'no key', 401, (c) => request(c.app).get('/v1/whoami')],
    [
      'get',
      '/whoami',
      'an unknown key',
      401,
      (c) =>
        request(c.app)
          .get('/v1/whoami')
          .set(bearer(`kw_sk_${'A'.repeat(38)}`)),
    ],
    [
      'get',
      '/whoami',
      'two different keys',
      400,
      async (c) =>
        request(c.app)
          .get('/v1/whoami')
          .set(bearer(c.publicToken))
          .set('X-API-Key', await c.secret()),
    ],
    [
      'get',
      '/snippets',
      'a public key',
      200,
      (c) => request(c.app).get('/v1/snippets').set('X-API-Key', c.publicToken),
    ],
    [
      'get',
      '/snippets',
      'a key without snippets:read',
      403,
      async (c) =>
        request(c.app)
          .get('/v1/snippets')
          .set(bearer(await c.secret({ scopes: ['snippets:write'] }))),
    ],
    [
      'get',
      '/snippets',
      'a key over its limit',
      429,
      async (c) => {
        const token = await c.secret({ limits: [{ limit: 1, windowSeconds: 3600 }] });
        await request(c.app).get('/v1/snippets').set(bearer(token));
        return request(c.app).get('/v1/snippets').set(bearer(token));
      },
    ],
    [
      'post',
      '/snippets',
      'a secret key',
      201,
      async (c) =>
        request(c.app)
          .post('/v1/snippets')
          .set(bearer(await c.secret()))
          .send({ title: 'Hi' }),
    ],
    [
      'post',
      '/snippets',
      'a bad body',
      400,
      async (c) =>
        request(c.app)
          .post('/v1/snippets')
          .set(bearer(await c.secret()))
          .send({ title: '', x: 1 }),
    ],
    [
      'post',
      '/snippets',
      'a public key',
      403,
      (c) => request(c.app).post('/v1/snippets').set(bearer(c.publicToken)).send({ title: 'Hi' }),
    ],
    [
      'post',
      '/snippets',
      'a text body',
      415,
      async (c) =>
        request(c.app)
          .post('/v1/snippets')
          .set(bearer(await c.secret()))
          .type('text/plain')
          .send('Hi'),
    ],
    ['get', '/openapi.json', 'no key', 200, (c) => request(c.app).get('/v1/openapi.json')],
  ])('%s %s with %s answers %i as the document says', async (method, path, _case, status, run) => {
    const context = await signedUp();
    const res = await run(context);
    expect(res.status).toBe(status);
    expect(validator(createV1OpenApiDocument())(method, path, res)).toEqual([]);
  });
});

describe('GET /api/keys/openapi.json of the demo', () => {
  it("names the demo's session cookie as the security scheme", async () => {
    const { app } = await signedUp();
    const res = await request(app).get('/api/keys/openapi.json');
    expect(res.body.components.securitySchemes.session).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: 'kw_demo_session',
    });
  });
});
