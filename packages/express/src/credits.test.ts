import { createKeyward, MemoryKeyStore } from '@keyward/core';
import express5 from 'express5';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';

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
});
