import { type KeyStore, KeyStoreUnavailableError, MemoryKeyStore } from '@keyward/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';

const KEY_FIELDS = [
  'allowedIps',
  'allowedOrigins',
  'createdAt',
  'createdBy',
  'disabled',
  'expiresAt',
  'id',
  'isDefault',
  'lastUsedAt',
  'legacy',
  'limits',
  'meta',
  'name',
  'organizationId',
  'owner',
  'plan',
  'redactedKey',
  'replacedBy',
  'rolledAt',
  'scopes',
  'status',
  'token',
  'type',
  'updatedAt',
];
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** A demo on a memory store; `agent` keeps the session cookie like a browser. */
function demo(options: { store?: KeyStore } = {}) {
  const { app, keyward } = createDemoApp({ store: options.store ?? new MemoryKeyStore(), ...options });
  return { app, keyward, agent: request.agent(app) };
}

/** A demo with one signed-up organization. */
async function signedUp(organization = 'Acme') {
  const context = demo();
  const res = await context.agent.post('/signup').send({ organization });
  expect(res.status).toBe(201);
  const { keyward } = context;
  const org: string = res.body.organization.id;
  /** A secret key of the organization, created through the service. */
  const secretKey = async (scopes?: string[]) =>
    (await keyward.createKey(org, { name: 'Server', type: 'secret', ...(scopes ? { scopes } : {}) })).token;
  return { ...context, res, org, publicToken: res.body.defaultKey.token as string, secretKey };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const corsHeaders = (res: request.Response) =>
  Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));

describe('POST /signup', () => {
  it('creates the organization and its public Default API Key, shown with its token', async () => {
    const { res, keyward, org } = await signedUp('  Acme  ');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.organization).toEqual({ id: org, name: 'Acme' });
    expect(org).toMatch(/^org_[\w-]{16}$/);
    const key = res.body.defaultKey;
    expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
    expect(key).toMatchObject({
      organizationId: org,
      name: 'Default API Key',
      type: 'public',
      scopes: ['snippets:read'],
      isDefault: true,
      status: 'active',
      expiresAt: null,
    });
    expect(key.token).toMatch(/^kw_pk_[0-9A-Za-z]{38}$/);
    expect(key.redactedKey).toBe(`kw_pk_…${key.token.slice(-4)}`);
    expect((await keyward.listKeys(org)).keys.map((k) => k.id)).toEqual([key.id]);
  });

  it('starts a session in an HttpOnly, SameSite=Lax cookie that is not Secure over plain HTTP', async () => {
    const { res } = await signedUp();
    const [cookie] = res.headers['set-cookie'] as unknown as string[];
    // express-session's signed id: s:<id>.<HMAC>, URL-encoded.
    expect(cookie).toMatch(/^kw_demo_session=s%3A[\w-]{32}\.[\w%+/-]+; /);
    const attributes = (cookie as string).split('; ').slice(1);
    expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax']));
    expect(attributes.find((a) => a.startsWith('Expires='))).toBeDefined();
    expect(attributes).not.toContain('Secure');
  });

  it('gives every sign-up its own organization and session', async () => {
    const { app } = demo();
    const acme = request.agent(app);
    const globex = request.agent(app);
    const a = await acme.post('/signup').send({ organization: 'Acme' });
    const b = await globex.post('/signup').send({ organization: 'Acme' });
    expect(a.body.organization.id).not.toBe(b.body.organization.id);
    expect((await acme.get('/api/keys')).body.data.map((k: { id: string }) => k.id)).toEqual([
      a.body.defaultKey.id,
    ]);
    expect((await globex.get('/api/keys')).body.data.map((k: { id: string }) => k.id)).toEqual([
      b.body.defaultKey.id,
    ]);
  });

  it.each([
    ['no organization', {}, 'organization', 'Required.'],
    ['an empty name', { organization: '' }, 'organization', 'Must not be empty.'],
    ['a blank name', { organization: ' \t ' }, 'organization', 'Must not be empty.'],
    ['a number', { organization: 42 }, 'organization', 'Must be a string.'],
    ['an object', { organization: { $gt: '' } }, 'organization', 'Must be a string.'],
    ['101 characters', { organization: 'x'.repeat(101) }, 'organization', 'Must be at most 100 characters.'],
    [
      'a control character',
      { organization: 'Acme\u0000' },
      'organization',
      'Must not contain control characters.',
    ],
    ['an unknown field', { organization: 'Acme', role: 'admin' }, 'role', 'Unknown field.'],
    ['an array', ['Acme'], '', 'Must be a JSON object.'],
  ])('refuses %s with 400 validation_error, and creates nothing', async (_label, body, path, message) => {
    const { app, keyward } = demo();
    const res = await request(app)
      .post('/signup')
      .send(body as object);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'validation_error', message: 'The request is invalid.', details: [{ path, message }] },
    });
    expect(res.headers['set-cookie']).toBeUndefined();
    expect((await keyward.listKeys('org_x')).keys).toEqual([]);
  });

  it('refuses a __proto__ field as unknown, and pollutes nothing', async () => {
    const res = await request(demo().app)
      .post('/signup')
      .set('Content-Type', 'application/json')
      .send('{"organization":"Acme","__proto__":{"polluted":true}}');
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: '__proto__', message: 'Unknown field.' }]);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it.each([
    ['malformed JSON', 400, 'validation_error', 'application/json', '{"organization":'],
    ['JSON null', 400, 'validation_error', 'application/json', 'null'],
    ['a form post', 415, 'unsupported_media_type', 'application/x-www-form-urlencoded', 'organization=Acme'],
    [
      'text/plain (a cross-site form)',
      415,
      'unsupported_media_type',
      'text/plain',
      '{"organization":"Acme"}',
    ],
    [
      'a body over 2 kB',
      413,
      'payload_too_large',
      'application/json',
      `{"organization":"${'x'.repeat(3000)}"}`,
    ],
    ['JSON in latin1', 415, 'unsupported_media_type', 'application/json; charset=latin1', '{}'],
  ])('answers %s with %i %s', async (_label, status, code, type, body) => {
    const res = await request(demo().app).post('/signup').set('Content-Type', type).send(body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('answers 503 key_store_unavailable, and starts no session, when the store is down', async () => {
    const store = new MemoryKeyStore();
    store.insert = () => Promise.reject(new KeyStoreUnavailableError());
    const res = await request(demo({ store }).app).post('/signup').send({ organization: 'Acme' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('key_store_unavailable');
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('/api/keys (the admin API, by session cookie)', () => {
  it.each(['/api/keys', '/api/keys/scopes', '/api/keys/key_0123456789ABCDEFGHIJ'])(
    'answers GET %s with 401 unauthorized without a session',
    async (path) => {
      const res = await request(demo().app).get(path);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    },
  );

  it('answers 401 to an unknown or forged session cookie', async () => {
    const { app } = await signedUp();
    const res = await request(app)
      .get('/api/keys')
      .set('Cookie', `kw_demo_session=${'A'.repeat(43)}`);
    expect(res.status).toBe(401);
  });

  it("lists, creates and rolls the session's organization's keys, and serves the scope catalog", async () => {
    const { agent, res: signup } = await signedUp();
    const list = await agent.get('/api/keys');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([signup.body.defaultKey]);
    const created = await agent
      .post('/api/keys')
      .send({ name: 'CI', type: 'secret', scopes: ['snippets:write'] });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^kw_sk_/);
    const rolled = await agent
      .post(`/api/keys/${created.body.data.id}/roll`)
      .send({ gracePeriodSeconds: 60 });
    expect(rolled.status).toBe(201);
    expect((await agent.get('/api/keys/scopes')).body).toEqual({
      data: { scopes: ['snippets:read', 'snippets:write'], publicScopes: ['snippets:read'] },
    });
  });

  it("never shows another organization's keys", async () => {
    const acme = await signedUp('Acme');
    const other = request.agent(acme.app);
    await other.post('/signup').send({ organization: 'Globex' });
    const res = await other.get(`/api/keys/${acme.res.body.defaultKey.id}`);
    expect(res.status).toBe(404);
  });

  it('sends no CORS headers, to a request or to a preflight from another origin', async () => {
    const { agent } = await signedUp();
    const res = await agent.get('/api/keys').set('Origin', 'https://evil.example');
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    const preflight = await agent
      .options('/api/keys')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    expect(corsHeaders(preflight)).toEqual([]);
  });

  it('refuses a cross-site form post (not JSON) even with the session cookie, and creates nothing', async () => {
    const { agent, keyward, org } = await signedUp();
    const res = await agent
      .post('/api/keys')
      .set('Content-Type', 'text/plain')
      .send('{"name":"Evil","type":"secret"}');
    expect(res.status).toBe(415);
    expect((await keyward.listKeys(org)).keys).toHaveLength(1);
  });
});

describe('/v1 (by API key)', () => {
  it('GET /v1/whoami answers the key that authenticated, from Authorization or X-API-Key', async () => {
    const { app, publicToken, res: signup } = await signedUp();
    const expected = {
      apiKey: {
        id: signup.body.defaultKey.id,
        organizationId: signup.body.organization.id,
        name: 'Default API Key',
        type: 'public',
        scopes: ['snippets:read'],
        meta: null,
      },
    };
    const viaBearer = await request(app).get('/v1/whoami').set(bearer(publicToken));
    expect([viaBearer.status, viaBearer.body]).toEqual([200, expected]);
    const viaHeader = await request(app).get('/v1/whoami').set('X-API-Key', publicToken);
    expect([viaHeader.status, viaHeader.body]).toEqual([200, expected]);
    expect(viaBearer.text).not.toContain(publicToken);
  });

  it('GET /v1/whoami answers 401 without a key, or with a bad one, and never reads the session', async () => {
    const { agent } = await signedUp();
    const none = await agent.get('/v1/whoami');
    expect([none.status, none.body.error.code]).toEqual([401, 'missing_api_key']);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
    const bad = await agent.get('/v1/whoami').set(bearer('kw_sk_nope'));
    expect([bad.status, bad.body.error.code]).toEqual([401, 'invalid_api_key']);
    const query = await agent.get(`/v1/whoami?api_key=kw_pk_${'0'.repeat(38)}`);
    expect(query.body.error.code).toBe('missing_api_key');
  });

  it("GET /v1/snippets answers the organization's snippets to a public key with snippets:read", async () => {
    const { app, publicToken } = await signedUp();
    const res = await request(app).get('/v1/snippets').set(bearer(publicToken));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: [
        {
          id: expect.any(String),
          title: 'Hello from Keyward',
          content: expect.any(String),
          createdAt: expect.any(String),
        },
      ],
    });
  });

  it('GET /v1/snippets answers 403 insufficient_scope to a key without snippets:read', async () => {
    const { app, secretKey } = await signedUp();
    const res = await request(app)
      .get('/v1/snippets')
      .set(bearer(await secretKey(['snippets:write'])));
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'insufficient_scope', required: ['snippets:read'] });
  });

  it('POST /v1/snippets answers 403 secret_key_required to a public key, and writes nothing', async () => {
    const { app, publicToken } = await signedUp();
    const res = await request(app).post('/v1/snippets').set(bearer(publicToken)).send({ title: 'Nope' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('secret_key_required');
    expect((await request(app).get('/v1/snippets').set(bearer(publicToken))).body.data).toHaveLength(1);
  });

  it('POST /v1/snippets answers 403 insufficient_scope to a secret key without snippets:write', async () => {
    const { app, secretKey } = await signedUp();
    const res = await request(app)
      .post('/v1/snippets')
      .set(bearer(await secretKey(['snippets:read'])))
      .send({ title: 'Nope' });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({
      code: 'insufficient_scope',
      message: expect.any(String),
      required: ['snippets:write'],
    });
  });

  it('POST /v1/snippets creates a snippet with a secret key holding snippets:write', async () => {
    const { app, secretKey, publicToken } = await signedUp();
    const res = await request(app)
      .post('/v1/snippets')
      .set(bearer(await secretKey()))
      .send({ title: '  Deploy notes ', content: 'ship it' });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ title: 'Deploy notes', content: 'ship it' });
    const list = await request(app).get('/v1/snippets').set(bearer(publicToken));
    expect(list.body.data.map((s: { title: string }) => s.title)).toEqual([
      'Deploy notes',
      'Hello from Keyward',
    ]);
  });

  it("keeps each organization's snippets apart", async () => {
    const acme = await signedUp('Acme');
    const globex = await request(acme.app).post('/signup').send({ organization: 'Globex' });
    await request(acme.app)
      .post('/v1/snippets')
      .set(bearer(await acme.secretKey()))
      .send({ title: 'Acme only' });
    const theirs = await request(acme.app).get('/v1/snippets').set(bearer(globex.body.defaultKey.token));
    expect(theirs.body.data.map((s: { title: string }) => s.title)).toEqual(['Hello from Keyward']);
  });

  it.each([
    ['no title', { content: 'x' }, 400, 'validation_error'],
    ['an empty title', { title: ' ' }, 400, 'validation_error'],
    ['an unknown field', { title: 'A', admin: true }, 400, 'validation_error'],
    ['content that is not a string', { title: 'A', content: 1 }, 400, 'validation_error'],
    ['a body over 4 kB', { title: 'A', content: 'x'.repeat(5000) }, 413, 'payload_too_large'],
  ])('POST /v1/snippets refuses %s', async (_label, body, status, code) => {
    const { app, secretKey } = await signedUp();
    const res = await request(app)
      .post('/v1/snippets')
      .set(bearer(await secretKey()))
      .send(body);
    expect([res.status, res.body.error.code]).toEqual([status, code]);
  });

  it('POST /v1/snippets refuses a body that is not JSON with 415, and checks the key before the body', async () => {
    const { app, secretKey } = await signedUp();
    const text = await request(app)
      .post('/v1/snippets')
      .set(bearer(await secretKey()))
      .set('Content-Type', 'text/plain')
      .send('title');
    expect([text.status, text.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const anonymous = await request(app)
      .post('/v1/snippets')
      .set('Content-Type', 'application/json')
      .send('{bad');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'missing_api_key']);
  });

  it('answers a CORS preflight from any origin, without credentials', async () => {
    const res = await request(demo().app)
      .options('/v1/snippets')
      .set('Origin', 'https://app.example')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization, content-type');
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization,X-API-Key,Content-Type');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('answers CORS on success and refusal alike, and lets browsers read Sunset, WWW-Authenticate and the rate-limit headers', async () => {
    const { app, publicToken } = await signedUp();
    for (const res of [
      await request(app).get('/v1/whoami').set('Origin', 'https://app.example').set(bearer(publicToken)),
      await request(app).get('/v1/whoami').set('Origin', 'https://app.example'),
    ]) {
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-expose-headers']).toBe(
        'RateLimit,RateLimit-Policy,Retry-After,Sunset,Deprecation,WWW-Authenticate,Credits-Remaining',
      );
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    }
  });

  it('sends Sunset and Deprecation headers with a rolled key inside its grace period', async () => {
    const { app, keyward, org, secretKey } = await signedUp();
    const token = await secretKey();
    const [key] = (await keyward.listKeys(org)).keys;
    const { previous } = await keyward.rollKey(org, key?.id as string, { gracePeriodSeconds: 3600 });
    const res = await request(app).get('/v1/whoami').set(bearer(token));
    expect(res.status).toBe(200);
    // The end of the grace period (the old key's new expiry), as an HTTP-date (whole seconds).
    expect(previous.expiresAt).not.toBeNull();
    expect(res.headers.sunset).toBe((previous.expiresAt as Date).toUTCString());
    // RFC 9745: since the roll, in unix seconds.
    expect(res.headers.deprecation).toBe(`@${Math.floor((previous.rolledAt as Date).getTime() / 1000)}`);
  });

  it('answers unknown /v1 routes with a JSON 404 that browsers can read', async () => {
    const res = await request(demo().app).get('/v1/nope').set('Origin', 'https://app.example');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('pages', () => {
  it('GET / serves the sign-up page under a strict CSP, with no inline script or style', async () => {
    const res = await request(demo().app).get('/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.text).toContain('<label for="organization">Organization name</label>');
    expect(res.text).toMatch(/<script type="module" src="\/static\/signup.js"><\/script>/);
    expect(res.text.match(/<script\b/g)).toHaveLength(1);
    expect(res.text).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(res.text).not.toContain('You are signed in');
  });

  it('GET / tells a signed-in visitor where their keys are, with the name escaped', async () => {
    const { agent } = await signedUp('<img src=x onerror=alert(1)>');
    const res = await agent.get('/');
    expect(res.text).toContain('You are signed in to <strong>&lt;img src=x onerror=alert(1)&gt;</strong>');
    expect(res.text).toContain('href="/dashboard/api-keys"');
  });

  it.each([
    ['/static/signup.js', /^text\/javascript/],
    ['/static/demo.css', /^text\/css/],
    ['/static/icon.svg', /^image\/svg\+xml/],
  ])('serves %s as %s', async (path, type) => {
    const res = await request(demo().app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each(['/static/../package.json', '/static/%2e%2e/package.json', '/static/', '/static/nope.js'])(
    'answers %s with a JSON 404',
    async (path) => {
      const res = await request(demo().app).get(path);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    },
  );

  it('GET /dashboard/api-keys sends a visitor without a session to the sign-up page', async () => {
    const res = await request(demo().app).get('/dashboard/api-keys');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('GET /dashboard/api-keys serves the API keys page, talking to /api/keys, under a strict CSP', async () => {
    const { agent } = await signedUp();
    const res = await agent.get('/dashboard/api-keys');
    expect(res.status).toBe(200);
    expect(res.headers['content-security-policy']).toBe(CSP);
    expect(res.text).toContain('data-api-url="/api/keys"');
    expect(res.text).toMatch(/src="\/dashboard\/api-keys\/assets\/main\.[\w-]{12}\.js"/);
    expect(res.text).not.toMatch(/<style\b|\sstyle=/i);
  });

  it("serves the page's files without a session", async () => {
    const res = await request(demo().app).get('/dashboard/api-keys/assets/main.js');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('GET /healthz answers 200', async () => {
    const res = await request(demo().app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('answers unknown routes with a JSON 404 and sends no X-Powered-By', async () => {
    const res = await request(demo().app).delete('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});
