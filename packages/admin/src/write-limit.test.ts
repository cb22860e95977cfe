import { createKeyward, type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import { MemoryStore } from 'express-rate-limit';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAdminRouter } from './admin-router.js';
import type { AdminRouterOptions } from './options.js';
import { headerAuthorize, UNKNOWN_ID } from './test-app.js';

const START = Date.parse('2030-01-01T00:00:00.000Z');

function writeApp(options: Partial<AdminRouterOptions> = {}) {
  const keyward: Keyward = createKeyward({
    store: new MemoryKeyStore(),
    scopes: ['snippets:read'],
    pepper: TEST_PEPPER,
  });
  const authorizeCalls = { count: 0 };
  const app = express();
  app.use(
    '/api/keys',
    createAdminRouter({
      keyward,
      authorize: (req) => {
        authorizeCalls.count++;
        return headerAuthorize(req);
      },
      ...options,
    }),
  );
  const create = (org: string, name = 'K') =>
    request(app).post('/api/keys').set('x-org', org).send({ name, type: 'secret' });
  return { app, keyward, create, authorizeCalls };
}

function expectTooMany(res: request.Response) {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({
    error: {
      code: 'too_many_requests',
      message: "Too many changes to this organization's API keys. Retry later.",
    },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(res.headers['cache-control']).toBe('no-store');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the per-organization cap on admin writes', () => {
  it('refuses the write over the cap with 429 too_many_requests and Retry-After, and creates nothing', async () => {
    const { keyward, create } = writeApp({ writesPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await create('org_a', `K${i}`)).status).toBe(201);

    const refused = await create('org_a', 'Over');

    expectTooMany(refused);
    const { keys } = await keyward.listKeys('org_a');
    expect(keys.map((k) => k.name).sort()).toEqual(['K0', 'K1', 'K2']);
  });

  it('counts each organization on its own and leaves reads alone', async () => {
    const { app, create } = writeApp({ writesPerMinute: 2 });
    await create('org_a');
    await create('org_a');
    expectTooMany(await create('org_a'));

    expect((await create('org_b')).status).toBe(201);
    expect((await request(app).get('/api/keys').set('x-org', 'org_a')).status).toBe(200);
    expect((await request(app).get('/api/keys/scopes').set('x-org', 'org_a')).status).toBe(200);
  });

  it('counts PATCH, roll and DELETE as writes, and a refused DELETE deletes nothing', async () => {
    const { app, keyward, create } = writeApp({ writesPerMinute: 3 });
    const created = await create('org_a');
    const id = created.body.data.id as string;
    const patch = await request(app).patch(`/api/keys/${id}`).set('x-org', 'org_a').send({ name: 'Renamed' });
    expect(patch.status).toBe(200);
    const roll = await request(app).post(`/api/keys/${id}/roll`).set('x-org', 'org_a').send({});
    expect(roll.status).toBe(201);

    const refused = await request(app).delete(`/api/keys/${id}`).set('x-org', 'org_a');

    expectTooMany(refused);
    expect(await keyward.getKey('org_a', id)).not.toBeNull();
  });

  it('does not count requests authorize refused, nor run before authorize', async () => {
    const { app, create, authorizeCalls } = writeApp({ writesPerMinute: 1 });
    for (let i = 0; i < 3; i++) {
      expect((await request(app).post('/api/keys').send({ name: 'K', type: 'secret' })).status).toBe(401);
    }
    expect(authorizeCalls.count).toBe(3);
    expect((await create('org_a')).status).toBe(201);
    expectTooMany(await create('org_a'));
  });

  it('is checked before the body is read: an over-cap write with a bad body is still a 429', async () => {
    const { app, create } = writeApp({ writesPerMinute: 1 });
    await create('org_a');
    const res = await request(app)
      .post('/api/keys')
      .set('x-org', 'org_a')
      .set('Content-Type', 'application/json')
      .send('{not json');
    expectTooMany(res);
  });

  it('defaults to 120 writes per organization per minute', async () => {
    const { app } = writeApp();
    const del = () => request(app).delete(`/api/keys/${UNKNOWN_ID}`).set('x-org', 'org_a');
    for (let i = 0; i < 120; i++) expect((await del()).status).toBe(404);
    expectTooMany(await del());
  });

  it('is off with writesPerMinute: false', async () => {
    const { app } = writeApp({ writesPerMinute: false });
    for (let i = 0; i < 125; i++) {
      expect((await request(app).delete(`/api/keys/${UNKNOWN_ID}`).set('x-org', 'org_a')).status).toBe(404);
    }
  });

  it('lets the organization write again once the minute has passed', async () => {
    // express-rate-limit's memory store reads `Date.now()`: fake only `Date`, so sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'], now: START });
    const { create } = writeApp({ writesPerMinute: 1 });
    expect((await create('org_a')).status).toBe(201);
    expectTooMany(await create('org_a'));

    vi.setSystemTime(START + 60_001);

    expect((await create('org_a')).status).toBe(201);
  });

  it('counts in the store it is given (shared by several routers, as instances share a Redis store)', async () => {
    const store = new MemoryStore();
    const first = writeApp({ writesPerMinute: 2, writeLimitStore: store });
    const second = writeApp({ writesPerMinute: 2, writeLimitStore: store });
    expect((await first.create('org_a')).status).toBe(201);
    expect((await second.create('org_a')).status).toBe(201);
    expectTooMany(await first.create('org_a'));
  });

  it('throws a TypeError at start-up for a wrong writesPerMinute or writeLimitStore', () => {
    const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['a'], pepper: TEST_PEPPER });
    for (const writesPerMinute of [0, -1, 1.5, '10', true, null, Number.POSITIVE_INFINITY]) {
      expect(
        () =>
          createAdminRouter({
            keyward,
            authorize: headerAuthorize,
            writesPerMinute: writesPerMinute as never,
          }),
        String(writesPerMinute),
      ).toThrow(TypeError);
    }
    expect(() =>
      createAdminRouter({ keyward, authorize: headerAuthorize, writeLimitStore: {} as never }),
    ).toThrow(TypeError);
  });
});
