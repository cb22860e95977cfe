import { MemoryKeyStore } from '@keyward/core';
import { generateToken } from '@keyward/core/store';
import { delegatingStore } from '@keyward/core/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDemoApp } from './app.js';

// The in-memory rate-limit counters read `Date.now()`: fake only `Date`, so a second does not pass
// between requests on a slow machine (sockets and timers stay real).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.parse('2030-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

async function signedUp() {
  const { app, keyward } = createDemoApp({ store: new MemoryKeyStore() });
  const res = await request(app).post('/signup').send({ organization: 'Acme' });
  expect(res.status).toBe(201);
  return { app, keyward, org: res.body.organization.id as string, defaultKey: res.body.defaultKey };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('demo key policies', () => {
  it('gives public keys 10 requests per second and 10,000 per day; the 11th in a second gets 429', async () => {
    const { app, keyward, org, defaultKey } = await signedUp();
    const perSecond = { limit: 10, windowSeconds: 1 };
    const perDay = { limit: 10_000, windowSeconds: 86_400 };
    expect(defaultKey.limits).toEqual([perSecond, perDay]);
    const created = await keyward.createKey(org, { name: 'Widget', type: 'public' });
    expect(created.key.limits).toEqual([perSecond, perDay]);
    for (let i = 0; i < 10; i++) {
      const res = await request(app).get('/v1/whoami').set(bearer(defaultKey.token));
      expect(res.status).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe('"10-in-1s"; q=10; w=1');
    }
    const refused = await request(app).get('/v1/whoami').set(bearer(defaultKey.token));
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: { code: 'rate_limited', message: 'The API key is over its rate limit. Retry later.' },
    });
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers.ratelimit).toBe('"10-in-1s"; r=0; t=1');
    // The next second admits again; the day counts only the 10 admitted.
    vi.setSystemTime(Date.now() + 1_000);
    const next = await request(app).get('/v1/whoami').set(bearer(defaultKey.token));
    expect(next.status).toBe(200);
  });

  it('answers CORS for a key bound to origins only from those origins, and refuses the others', async () => {
    const { app, keyward, org, defaultKey } = await signedUp();
    await keyward.updateKey(org, defaultKey.id, {
      allowedOrigins: ['https://app.example', 'https://*.acme.example'],
    });
    const from = (origin: string) =>
      request(app).get('/v1/snippets').set('Origin', origin).set(bearer(defaultKey.token));
    for (const origin of ['https://app.example', 'https://www.acme.example']) {
      const res = await from(origin);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(origin);
      expect(res.headers.vary).toContain('Origin');
    }
    const other = await from('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe('origin_not_allowed');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    // Keys without origins and preflights (which carry no key) stay open to any origin.
    const secret = await keyward.createKey(org, { name: 'Server', type: 'secret' });
    const open = await request(app)
      .get('/v1/whoami')
      .set('Origin', 'https://evil.example')
      .set(bearer(secret.token));
    expect(open.headers['access-control-allow-origin']).toBe('*');
    const preflight = await request(app)
      .options('/v1/snippets')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'GET');
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });

  it('answers a throttled address before any lookup, CORS included: its requests cost the store nothing', async () => {
    const inner = new MemoryKeyStore();
    let lookups = 0;
    const store = delegatingStore(inner, {
      findByHash: (hash) => {
        lookups++;
        return inner.findByHash(hash);
      },
    });
    const { app } = createDemoApp({ store });
    const from = (token: string) =>
      request(app).get('/v1/whoami').set('Origin', 'https://app.example').set(bearer(token));
    // The default throttle: 50 refused keys per address in 5 minutes.
    for (let i = 0; i < 50; i++) expect((await from(generateToken('kw', 'public'))).status).toBe(401);
    const before = lookups;
    expect(before).toBe(50);
    for (let i = 0; i < 20; i++) {
      const res = await from(generateToken('kw', 'public'));
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('too_many_invalid_keys');
      expect(res.headers['access-control-allow-origin']).toBe('*');
    }
    expect(lookups).toBe(before);
  });
});
