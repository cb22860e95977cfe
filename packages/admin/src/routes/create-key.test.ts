import { describe, expect, it } from 'vitest';
import { ISO, KEY_FIELDS, PUBLIC_SCOPES, SCOPES, START, setup } from '../test-app.js';

const TOKEN = /^kw_(pk|sk)_[0-9A-Za-z]{38}$/;

describe('POST / (create a key)', () => {
  it('creates a secret key and returns it with its token once, with 201', async () => {
    const { api } = setup();
    const res = await api.post('', { name: '  Billing server ', type: 'secret' });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'token']);
    expect(res.body.token).toMatch(/^kw_sk_[0-9A-Za-z]{38}$/);
    expect(Object.keys(res.body.data).sort()).toEqual(KEY_FIELDS);
    expect(res.body.data).toEqual({
      id: expect.stringMatching(/^key_[0-9A-Za-z]{20}$/),
      organizationId: 'org_a',
      name: 'Billing server',
      type: 'secret',
      scopes: SCOPES,
      redactedKey: `kw_sk_…${res.body.token.slice(-4)}`,
      isDefault: false,
      createdAt: new Date(START).toISOString(),
      updatedAt: new Date(START).toISOString(),
      expiresAt: null,
      lastUsedAt: null,
      disabled: false,
      rolledAt: null,
      replacedBy: null,
      status: 'active',
      limits: [],
      allowedOrigins: [],
      allowedIps: [],
      legacy: false,
      meta: null,
      owner: null,
      createdBy: { type: 'user', id: 'unknown' },
      plan: null,
    });
  });

  it('creates a public key with limits, allowed origins and addresses, shown in the Key object', async () => {
    const { api } = setup();
    const policies = {
      limits: [{ limit: 20, windowSeconds: 1 }],
      allowedOrigins: ['https://*.example.com'],
      allowedIps: ['203.0.113.0/24'],
    };
    const res = await api.post('', { name: 'Widget', type: 'public', ...policies });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject(policies);
  });

  it('answers 400 validation_error with details for bad policies, and for origins on a secret key', async () => {
    const { api } = setup();
    const bad = await api.post('', {
      name: 'Widget',
      type: 'public',
      limits: [{ limit: 0, windowSeconds: 1 }],
      allowedOrigins: ['https://example.com/path'],
      allowedIps: ['10.0.0.0/33'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_error');
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'allowedIps.0',
      'allowedOrigins.0',
      'limits.0.limit',
    ]);
    const secret = await api.post('', { name: 'S', type: 'secret', allowedOrigins: ['https://a.example'] });
    expect(secret.status).toBe(400);
    expect(secret.body.error.details).toEqual([{ path: 'allowedOrigins', message: expect.any(String) }]);
  });

  it('creates a public key whose token is also in the key itself', async () => {
    const { api } = setup();
    const res = await api.post('', { name: 'Website', type: 'public' });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^kw_pk_/);
    expect(res.body.data.token).toBe(res.body.token);
    expect(res.body.data.scopes).toEqual(PUBLIC_SCOPES);
    expect(Object.keys(res.body.data).sort()).toEqual([...KEY_FIELDS, 'token'].sort());
  });

  it('creates a key with the given scopes and expiry', async () => {
    const { api } = setup();
    const res = await api.post('', {
      name: 'Reader',
      type: 'secret',
      scopes: ['snippets:read', 'snippets:read'],
      expiresAt: '2030-06-01T12:00:00+02:00',
    });
    expect(res.status).toBe(201);
    expect(res.body.data.scopes).toEqual(['snippets:read']);
    expect(res.body.data.expiresAt).toBe('2030-06-01T10:00:00.000Z');
    expect(res.body.data.expiresAt).toMatch(ISO);
  });

  it('creates a key with no scopes when given an empty list', async () => {
    const { api } = setup();
    const res = await api.post('', { name: 'Nothing', type: 'secret', scopes: [] });
    expect(res.status).toBe(201);
    expect(res.body.data.scopes).toEqual([]);
  });

  it('creates a key that never expires when expiresAt is null', async () => {
    const { api } = setup();
    const res = await api.post('', { name: 'Forever', type: 'public', expiresAt: null });
    expect(res.status).toBe(201);
    expect(res.body.data.expiresAt).toBeNull();
  });

  it('gives 20 concurrent creates 20 distinct ids and tokens', async () => {
    const { api, keyward } = setup();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api.post('', { name: `Key ${i}`, type: i % 2 ? 'public' : 'secret' }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.data.id)).size).toBe(20);
    expect(new Set(responses.map((r) => r.body.token)).size).toBe(20);
    for (const r of responses) expect(r.body.token).toMatch(TOKEN);
    expect((await keyward.listKeys('org_a')).keys).toHaveLength(20);
  });

  it('stores the key so that its token verifies', async () => {
    const { api, keyward } = setup();
    const res = await api.post('', { name: 'CI', type: 'secret', scopes: ['snippets:write'] });
    const verified = await keyward.verify(res.body.token, { scopes: ['snippets:write'] });
    expect(verified).toMatchObject({ valid: true, key: { id: res.body.data.id, organizationId: 'org_a' } });
  });
});

describe('POST / validation', () => {
  const cases: Array<[string, unknown, Array<{ path: string; message?: RegExp }>]> = [
    [
      'an unknown field',
      { name: 'A', type: 'secret', ownerId: 'me' },
      [{ path: 'ownerId', message: /Unknown field/ }],
    ],
    [
      'a missing name and type',
      {},
      [
        { path: 'name', message: /Required/ },
        { path: 'type', message: /Required/ },
      ],
    ],
    ['a name of the wrong type', { name: 42, type: 'secret' }, [{ path: 'name', message: /string/ }]],
    ['an empty name', { name: '', type: 'secret' }, [{ path: 'name', message: /empty/ }]],
    ['a name of only spaces', { name: '   ', type: 'secret' }, [{ path: 'name', message: /empty/ }]],
    [
      'a name over 100 characters',
      { name: 'x'.repeat(101), type: 'secret' },
      [{ path: 'name', message: /100/ }],
    ],
    ['an unknown type', { name: 'A', type: 'admin' }, [{ path: 'type', message: /public.*secret/ }]],
    [
      'scopes that are not an array',
      { name: 'A', type: 'secret', scopes: 'snippets:read' },
      [{ path: 'scopes' }],
    ],
    [
      'a scope that is not a string',
      { name: 'A', type: 'secret', scopes: ['snippets:read', 7] },
      [{ path: 'scopes.1' }],
    ],
    [
      'an unknown scope',
      { name: 'A', type: 'secret', scopes: ['snippets:read', 'admin:all'] },
      [{ path: 'scopes.1', message: /Unknown scope/ }],
    ],
    [
      'a public key asking for a scope over the ceiling',
      { name: 'A', type: 'public', scopes: ['snippets:write'] },
      [{ path: 'scopes.0', message: /Public keys cannot hold/ }],
    ],
    [
      'a past expiresAt',
      { name: 'A', type: 'secret', expiresAt: '2029-12-31T23:59:59Z' },
      [{ path: 'expiresAt', message: /future/ }],
    ],
    [
      'an expiresAt of exactly now',
      { name: 'A', type: 'secret', expiresAt: '2030-01-01T00:00:00Z' },
      [{ path: 'expiresAt', message: /future/ }],
    ],
    [
      'an unparsable expiresAt',
      { name: 'A', type: 'secret', expiresAt: 'next tuesday' },
      [{ path: 'expiresAt', message: /RFC 3339/ }],
    ],
    [
      'an impossible calendar date',
      { name: 'A', type: 'secret', expiresAt: '2031-02-30T00:00:00Z' },
      [{ path: 'expiresAt' }],
    ],
    [
      'an expiresAt without a time zone',
      { name: 'A', type: 'secret', expiresAt: '2031-01-01T00:00:00' },
      [{ path: 'expiresAt' }],
    ],
    [
      'an expiresAt as a number',
      { name: 'A', type: 'secret', expiresAt: 1924992000000 },
      [{ path: 'expiresAt' }],
    ],
    ['a JSON array body', [{ name: 'A', type: 'secret' }], [{ path: '', message: /JSON object/ }]],
  ];

  it.each(cases)('answers 400 validation_error with details for %s', async (_label, body, expected) => {
    const { api, keyward } = setup();
    const res = await api.post('', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).toEqual(expect.any(String));
    expect(res.body.error.details).toHaveLength(expected.length);
    expected.forEach((detail, i) => {
      expect(res.body.error.details[i]).toEqual({
        path: detail.path,
        message: expect.stringMatching(detail.message ?? /./),
      });
    });
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  it('lists every problem of a body at once', async () => {
    const { api } = setup();
    const res = await api.post('', { name: '', type: 'x', scopes: 'y', expiresAt: 'z', extra: 1, more: 2 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['expiresAt', 'extra', 'more', 'name', 'scopes', 'type'].sort(),
    );
  });

  it('answers 400 when the body is absent (send one), and names the missing fields of {}', async () => {
    const { api } = setup();
    const res = await api.post('');
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: '', message: 'Send a JSON body ({} for the defaults).' },
    ]);
    const empty = await api.post('', {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.details.map((d: { path: string }) => d.path)).toEqual(['name', 'type']);
  });

  it('treats a __proto__ member as an unknown field', async () => {
    const { api } = setup();
    const res = await api
      .post('')
      .set('Content-Type', 'application/json')
      .send('{"name":"A","type":"secret","__proto__":{"isDefault":true}}');
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: '__proto__', message: 'Unknown field.' }]);
  });

  it.each([
    ['5,400 empty scopes', Array(5400).fill('')],
    ['2,000 distinct unknown scopes', Array.from({ length: 2000 }, (_, i) => `s${i}`)],
  ])('answers a small error to a body of %s (at most 20 details, under 4 kB)', async (_case, scopes) => {
    const { api, keyward } = setup();
    const body = JSON.stringify({ name: 'A', type: 'secret', scopes });
    expect(body.length).toBeGreaterThan(14_000);
    const res = await api.post('').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.details.length).toBeGreaterThan(0);
    expect(res.body.error.details.length).toBeLessThanOrEqual(20);
    expect(Buffer.byteLength(res.text)).toBeLessThan(4096);
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  it('caps the details at 20 when a body has more problems', async () => {
    const { api } = setup();
    const scopes = Array.from({ length: 2000 }, (_, i) => `s${i}`);
    const res = await api.post('', { name: 'A', type: 'secret', scopes });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toHaveLength(20);
  });
});
