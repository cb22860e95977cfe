import { MemoryKeyStore } from '@keyward/core';
import { useTestDatabase } from '@keyward/test-db';
import mongoose from 'mongoose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDemoApp, type DemoOptions, parseTrustProxy } from './app.js';
import { mongoSessionStore } from './sessions.js';

const SIGNUP = { organization: 'Acme' };

/** A demo on a memory store (small sign-up limit unless told), closed after the test file. */
const opened: Array<{ close(): void }> = [];
function demo(options: Partial<DemoOptions> = {}) {
  const made = createDemoApp({
    store: new MemoryKeyStore(),
    signupRateLimit: { limit: 1000, windowMs: 60_000 },
    ...options,
  });
  opened.push(made);
  return { ...made, agent: request.agent(made.app) };
}
afterAll(() => {
  for (const made of opened) made.close();
});

const cookieOf = (res: request.Response) =>
  (res.headers['set-cookie'] as unknown as string[] | undefined)?.[0];
const sessionId = (cookie: string | undefined) => /^kw_demo_session=([^;]*)/.exec(cookie ?? '')?.[1];

describe('sessions (express-session)', () => {
  it('stores no session for visitors who only open pages', async () => {
    const { app } = demo();
    for (const path of ['/', '/dashboard/api-keys', '/api/keys']) {
      const res = await request(app).get(path);
      expect([path, cookieOf(res)]).toEqual([path, undefined]);
    }
  });

  it('marks the cookie Secure when the request came over HTTPS through a trusted proxy', async () => {
    const { app } = demo({ trustProxy: 1 });
    const res = await request(app).post('/signup').set('X-Forwarded-Proto', 'https').send(SIGNUP);
    expect(res.status).toBe(201);
    expect(cookieOf(res)?.split('; ')).toEqual(
      expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax', 'Secure']),
    );
  });

  it('does not believe X-Forwarded-Proto when the proxy is not trusted', async () => {
    const { app } = demo({ trustProxy: false });
    const res = await request(app).post('/signup').set('X-Forwarded-Proto', 'https').send(SIGNUP);
    expect(cookieOf(res)?.split('; ')).not.toContain('Secure');
  });

  it('starts a new session id on sign-up, so a planted session id is never used (session fixation)', async () => {
    const { agent, app } = demo();
    const first = await agent.post('/signup').send(SIGNUP);
    const firstId = sessionId(cookieOf(first));
    const second = await agent.post('/signup').send({ organization: 'Globex' });
    const secondId = sessionId(cookieOf(second));
    expect(secondId).toBeDefined();
    expect(secondId).not.toBe(firstId);
    // The first session is gone: its cookie no longer signs anyone in.
    const replay = await request(app).get('/api/keys').set('Cookie', `kw_demo_session=${firstId}`);
    expect(replay.status).toBe(401);
    const current = await agent.get('/api/keys');
    expect(current.body.data[0].organizationId).toBe(second.body.organization.id);
  });

  it('refuses a session cookie signed with another secret', async () => {
    const one = demo({ sessionSecret: 'one-secret-for-the-test' });
    const signup = await one.agent.post('/signup').send(SIGNUP);
    const two = createDemoApp({ store: new MemoryKeyStore(), sessionSecret: 'another-secret' });
    opened.push(two);
    const res = await request(two.app)
      .get('/api/keys')
      .set('Cookie', `kw_demo_session=${sessionId(cookieOf(signup))}`);
    expect(res.status).toBe(401);
  });

  it.each([
    ['', false],
    ['false', false],
    ['true', true],
    ['1', 1],
    ['loopback', 'loopback'],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('reads TRUST_PROXY=%j as %j', (text, value) => {
    expect(parseTrustProxy(text)).toEqual(value);
  });
});

describe('POST /signout', () => {
  it('ends the session and clears the cookie (JSON: 204)', async () => {
    const { agent, app } = demo();
    const signup = await agent.post('/signup').send(SIGNUP);
    const id = sessionId(cookieOf(signup));
    const res = await agent.post('/signout').send({});
    expect(res.status).toBe(204);
    expect(cookieOf(res)).toMatch(
      /^kw_demo_session=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax$/,
    );
    expect((await agent.get('/api/keys')).status).toBe(401);
    // The session is gone from the store, not only from the browser.
    const replay = await request(app).get('/api/keys').set('Cookie', `kw_demo_session=${id}`);
    expect(replay.status).toBe(401);
  });

  it('signs out from the sign-up page form and goes back to it (303)', async () => {
    const { agent } = demo();
    await agent.post('/signup').send(SIGNUP);
    const page = await agent.get('/');
    expect(page.text).toContain('<form method="post" action="/signout" class="demo-signout">');
    const res = await agent
      .post('/signout')
      .set('Origin', 'http://127.0.0.1')
      .set('Host', '127.0.0.1')
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send('');
    expect([res.status, res.headers.location]).toEqual([303, '/']);
    expect((await agent.get('/api/keys')).status).toBe(401);
    expect((await agent.get('/')).text).not.toContain('You are signed in');
  });

  it('answers 204 without a session too', async () => {
    const res = await request(demo().app).post('/signout').send({});
    expect(res.status).toBe(204);
  });

  it.each([
    ['a cross-site Sec-Fetch-Site', { 'Sec-Fetch-Site': 'same-site' }],
    ['a foreign Origin', { Origin: 'http://127.0.0.1:1', Host: '127.0.0.1:2' }],
    ['Origin: null', { Origin: 'null' }],
  ])('refuses %s with 403 and keeps the session', async (_label, headers) => {
    const { agent } = demo();
    await agent.post('/signup').send(SIGNUP);
    const res = await agent.post('/signout').set(headers).type('form').send('');
    expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
    expect(cookieOf(res)).toBeUndefined();
    expect((await agent.get('/api/keys')).status).toBe(200);
  });

  it('refuses a text/plain body with 415 and keeps the session', async () => {
    const { agent } = demo();
    await agent.post('/signup').send(SIGNUP);
    const res = await agent.post('/signout').set('Content-Type', 'text/plain').send('x');
    expect(res.status).toBe(415);
    expect((await agent.get('/api/keys')).status).toBe(200);
  });
});

describe('POST /signup from another origin', () => {
  it.each([
    ['a cross-site Sec-Fetch-Site', { 'Sec-Fetch-Site': 'cross-site' }],
    ['a foreign Origin', { Origin: 'https://evil.example' }],
  ])('is refused with 403 for %s: no organization, no session', async (_label, headers) => {
    const store = new MemoryKeyStore();
    const insert = vi.spyOn(store, 'insert');
    const { app } = demo({ store });
    const res = await request(app).post('/signup').set(headers).send(SIGNUP);
    expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
    expect(cookieOf(res)).toBeUndefined();
    expect(insert).not.toHaveBeenCalled();
  });

  it('refuses a compressed body with 415', async () => {
    const res = await request(demo().app)
      .post('/signup')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send('{"organization":"Acme"}');
    expect([res.status, res.body.error.code]).toEqual([415, 'unsupported_media_type']);
  });
});

describe('the sign-up rate limit', () => {
  it('answers 429 rate_limited past the limit, with the draft-7 RateLimit headers and Retry-After', async () => {
    const { app } = demo({ signupRateLimit: { limit: 3, windowMs: 600_000 } });
    const answers: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/signup').send(SIGNUP);
      answers.push(res.status);
      expect(res.headers['ratelimit-policy']).toBe('3;w=600');
      expect(res.headers.ratelimit).toMatch(new RegExp(`^limit=3, remaining=${2 - i}, reset=\\d+$`));
    }
    const refused = await request(app).post('/signup').send(SIGNUP);
    expect(answers).toEqual([201, 201, 201]);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(cookieOf(refused)).toBeUndefined();
  });

  it('does not sign existing users out when a flood of sign-ups comes in, and throttles the flood', async () => {
    const { app, agent } = demo({ trustProxy: 1, signupRateLimit: { limit: 5, windowMs: 600_000 } });
    const victim = await agent.post('/signup').set('X-Forwarded-For', '203.0.113.7').send(SIGNUP);
    expect(victim.status).toBe(201);
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await request(app).post('/signup').set('X-Forwarded-For', '198.51.100.9').send(SIGNUP);
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
    const still = await agent.get('/api/keys');
    expect(still.status).toBe(200);
    expect(still.body.data[0].id).toBe(victim.body.defaultKey.id);
    // Another address is not affected by the flood.
    const other = await request(app).post('/signup').set('X-Forwarded-For', '192.0.2.1').send(SIGNUP);
    expect(other.status).toBe(201);
  });

  it('does not count against anything but sign-ups', async () => {
    const { agent } = demo({ signupRateLimit: { limit: 1, windowMs: 600_000 } });
    await agent.post('/signup').send(SIGNUP);
    for (let i = 0; i < 5; i++) expect((await agent.get('/api/keys')).status).toBe(200);
    expect((await agent.post('/signout').send({})).status).toBe(204);
  });
});

describe('sessions in MongoDB (connect-mongo on a client of its own)', () => {
  const db = useTestDatabase('demo-sessions');
  let connection: mongoose.Connection;
  beforeAll(async () => {
    connection = await mongoose.createConnection(db.uri).asPromise();
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('keeps sessions in the sessions collection, so a restarted demo keeps its users signed in', async () => {
    const options = { sessionSecret: 'shared-secret-for-the-test', store: new MemoryKeyStore() };
    const firstStore = mongoSessionStore(db.uri, db.dbName);
    const before = demo({ ...options, sessionStore: firstStore });
    const signup = await before.agent.post('/signup').send(SIGNUP);
    expect(signup.status).toBe(201);
    const stored = await connection.collection('sessions').find({}).toArray();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.session).toMatchObject({ organizationId: signup.body.organization.id });
    expect(JSON.stringify(stored)).not.toContain(signup.body.defaultKey.token);

    // Another app on the same store and secret (a restart): still signed in. Its keys were in memory, so
    // the organization has none there; the session is what this checks.
    const secondStore = mongoSessionStore(db.uri, db.dbName);
    const after = demo({ ...options, sessionStore: secondStore });
    const id = sessionId(cookieOf(signup));
    const res = await request(after.app).get('/api/keys').set('Cookie', `kw_demo_session=${id}`);
    expect(res.status).toBe(200);

    const out = await request(after.app).post('/signout').set('Cookie', `kw_demo_session=${id}`).send({});
    expect(out.status).toBe(204);
    expect(await connection.collection('sessions').countDocuments()).toBe(0);
    await Promise.all([firstStore.close(), secondStore.close()]);
    // The key store's connection is not the sessions' client: still open.
    expect(connection.readyState).toBe(1);
  });
});
