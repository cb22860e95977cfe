import { createKeyward, MemoryKeyStore } from '@keyward/core';
import express5 from 'express5';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { decimal } from './credits.js';

const PEPPER = 'credits-test-pepper-0123456789abcdef';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function setUp(remaining: number) {
  const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['read'], pepper: PEPPER });
  const { key, token } = await keyward.createKey('org_1', { name: 'metered', type: 'secret' });
  await keyward.setCredits('org_1', key.id, { remaining });
  let runs = 0;
  const handler = (_req: unknown, res: { json(body: unknown): void }) => {
    runs++;
    res.json({ ok: true });
  };
  const app = express5();
  app.get('/check', apiKeyAuth(keyward, { cost: 0 }), handler);
  app.get('/one', apiKeyAuth(keyward), handler);
  app.get('/five', apiKeyAuth(keyward, { cost: 5 }), handler);
  return { keyward, key, token, app, runs: () => runs };
}

describe('apiKeyAuth and credits', () => {
  it('refuses a cost that is no cost at start-up with a TypeError', () => {
    const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['read'], pepper: PEPPER });
    for (const cost of [-1, 1.5, Number.NaN, '1', null]) {
      expect(() => apiKeyAuth(keyward, { cost: cost as number })).toThrow(TypeError);
    }
    expect(() => apiKeyAuth(keyward, { cost: () => 2 })).not.toThrow();
  });

  it('checks the balance at cost 0 without spending, and refuses a cost above it whole', async () => {
    const { app, token, keyward, key, runs } = await setUp(3);
    const checked = await request(app).get('/check').set(bearer(token));
    expect(checked.status).toBe(200);
    expect(checked.headers['credits-remaining']).toBe('3');
    const five = await request(app).get('/five').set(bearer(token));
    expect(five.status).toBe(429);
    expect(five.body.error.code).toBe('credits_exhausted');
    expect(five.headers['retry-after']).toBeUndefined();
    expect((await keyward.getCredits('org_1', key.id))?.remaining).toBe(3);
    const spent = [];
    for (let i = 0; i < 4; i++) spent.push((await request(app).get('/one').set(bearer(token))).status);
    expect(spent).toEqual([200, 200, 200, 429]);
    expect((await request(app).get('/check').set(bearer(token))).status).toBe(429);
    expect(runs()).toBe(4);
  });

  it('leaves keys without credits alone: no header, nothing spent', async () => {
    const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['read'], pepper: PEPPER });
    const { token } = await keyward.createKey('org_1', { name: 'free', type: 'secret' });
    const app = express5();
    app.get('/five', apiKeyAuth(keyward, { cost: 5 }), (_req, res) => res.json({ ok: true }));
    const answer = await request(app).get('/five').set(bearer(token));
    expect(answer.status).toBe(200);
    expect(answer.headers['credits-remaining']).toBeUndefined();
  });

  it('charges a request through two guards the higher cost once, whatever runs between them, and adds no property to req or visible local', async () => {
    const { keyward, key, token } = await setUp(100);
    const app = express5();
    const snapshots = new WeakMap<object, (string | symbol)[]>();
    const byFirst: string[][] = [];
    const bySecond: string[][] = [];
    const snap = (req: object) => snapshots.set(req, Reflect.ownKeys(req));
    const added = (req: object) =>
      Reflect.ownKeys(req)
        .filter((k) => !snapshots.get(req)?.includes(k))
        .map(String);
    app.use((req, _res, next) => {
      snap(req);
      next();
    });
    app.use('/v1', apiKeyAuth(keyward));
    // An asynchronous middleware between the guards: other requests run while this one waits.
    app.use('/v1', (req, _res, next) => {
      byFirst.push(added(req));
      setImmediate(next);
    });
    const render = [
      (req: object, _res: unknown, next: () => void) => {
        snap(req);
        next();
      },
      apiKeyAuth(keyward, { cost: 3 }),
    ];
    const localsKeys: string[][] = [];
    app.get('/v1/render', ...render, (req, res) => {
      bySecond.push(added(req));
      localsKeys.push(Object.keys(res.locals));
      res.json({ ok: true });
    });
    app.get('/v1/cheap', apiKeyAuth(keyward, { cost: 0 }), (_req, res) => res.json({ ok: true }));
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        request(app)
          .get(i % 2 === 0 ? '/v1/render' : '/v1/cheap')
          .set(bearer(token)),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // 4 renders at 3 credits each (1 by the first guard, 2 more by the second), 4 cheap ones at 1 (the first guard's).
    expect((await keyward.getCredits('org_1', key.id))?.remaining).toBe(100 - 4 * 3 - 4 * 1);
    for (const answer of answers) expect(Number(answer.headers['credits-remaining'])).toBeLessThan(100);
    // The charge is remembered beside the request, not on it: neither guard adds a property to it
    // (`req.apiKey` is an accessor of the app's request prototype).
    expect(byFirst).toEqual(Array(8).fill([]));
    expect(bySecond).toEqual(Array(4).fill([]));
    expect(localsKeys).toEqual(Array(4).fill([])); // nothing a view or JSON of res.locals would show
    await keyward.close();
  });

  it('charges two guards once without res.locals too (a request object of its own kind)', async () => {
    const { keyward, key, token } = await setUp(10);
    const app = express5();
    app.use((_req, res, next) => {
      (res as { locals?: unknown }).locals = undefined;
      next();
    });
    app.get('/twice', apiKeyAuth(keyward, { cost: 2 }), apiKeyAuth(keyward, { cost: 3 }), (_req, res) => {
      res.json({ ok: true });
    });
    const answer = await request(app).get('/twice').set(bearer(token));
    expect(answer.status).toBe(200);
    expect(answer.headers['credits-remaining']).toBe('7');
    expect((await keyward.getCredits('org_1', key.id))?.remaining).toBe(7);
    await keyward.close();
  });

  it('writes a balance in the header as String() does, up to the largest one', () => {
    const MAX = 1_000_000_000_000;
    const samples = [
      0, 1, 9, 10, 999_999_999, 1_000_000_000, 1_000_000_001, 1_000_000_010, 1_234_000_000_089,
    ];
    for (let k = 0; k < 2_000; k++) samples.push(Math.floor((k / 2_000) * MAX) + k, MAX - k, 2 ** 30 + k);
    for (const n of samples) expect(decimal(n)).toBe(String(n));
    expect(decimal(MAX)).toBe('1000000000000');
  });
});
