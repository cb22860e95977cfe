import { createKeyward, type KeyLimit, MemoryKeyStore } from '@keyward/core';
import express5 from 'express5';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { createKeyLimiter } from './key-limiter.js';

const ORG = 'org_plans';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** One app instance with the given plans on a fresh memory store (or the given one), in-memory counting. */
function instance(store = new MemoryKeyStore()) {
  const keyward = createKeyward({
    store,
    pepper: 'plans-test-pepper-0123456789abcdef',
    scopes: ['snippets:read'],
    publicScopes: ['snippets:read'],
    plans: {
      free: { limits: [{ limit: 2, windowSeconds: 60 }] },
      team: { limits: [{ limit: 3, windowSeconds: 60, per: 'organization' }] },
    },
  });
  const app = express5();
  let runs = 0;
  app.get('/r', apiKeyAuth(keyward, { limiter: createKeyLimiter() }), (_req, res) => {
    runs++;
    res.json({ ok: true });
  });
  const statuses = async (token: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await request(app).get('/r').set(bearer(token))).status);
    return out;
  };
  return { keyward, app, store, statuses, runs: () => runs };
}

describe('shared limits (per owner, per organization)', () => {
  it('counts two keys of one owner on one count, and a key of another owner apart', async () => {
    const { keyward, statuses } = instance();
    const limits = [{ limit: 3, windowSeconds: 60, per: 'owner' as const }];
    const owner = { type: 'user' as const, id: 'u_1' };
    const a = await keyward.createKey(ORG, { name: 'A', type: 'secret', owner, limits });
    const b = await keyward.createKey(ORG, { name: 'B', type: 'secret', owner, limits });
    const other = await keyward.createKey(ORG, {
      name: 'C',
      type: 'secret',
      owner: { type: 'user', id: 'u_2' },
      limits,
    });
    expect(await statuses(a.token, 2)).toEqual([200, 200]);
    expect(await statuses(b.token, 2)).toEqual([200, 429]);
    expect(await statuses(a.token, 1)).toEqual([429]);
    expect(await statuses(other.token, 3)).toEqual([200, 200, 200]);
  });

  it('keeps an organization count when a key is deleted and another created (counts follow the customer)', async () => {
    const { keyward, statuses } = instance();
    const limits = [{ limit: 3, windowSeconds: 60, per: 'organization' as const }];
    const first = await keyward.createKey(ORG, { name: 'A', type: 'secret', limits });
    expect(await statuses(first.token, 3)).toEqual([200, 200, 200]);
    await keyward.deleteKey(ORG, first.key.id);
    const second = await keyward.createKey(ORG, { name: 'B', type: 'secret', limits });
    expect(await statuses(second.token, 1)).toEqual([429]);
    // Another organization has its own count.
    const theirs = await keyward.createKey('org_other', { name: 'T', type: 'secret', limits });
    expect(await statuses(theirs.token, 1)).toEqual([200]);
  });
});

describe('plans', () => {
  it("holds a key on a plan to the plan's limits; its own limits tighten them but never loosen them", async () => {
    const { keyward, statuses } = instance();
    /** A secret key on the `free` plan (2 per minute) with one limit of its own. */
    const onFreePlan = (name: string, limit: KeyLimit) =>
      keyward.createKey(ORG, { name, type: 'secret', plan: 'free', limits: [limit] });
    const onPlan = await keyward.createKey(ORG, { name: 'P', type: 'secret', plan: 'free' });
    expect(onPlan.key).toMatchObject({ plan: 'free', limits: [] });
    expect(await statuses(onPlan.token, 3)).toEqual([200, 200, 429]);
    const own = await onFreePlan('O', { limit: 4, windowSeconds: 60 });
    // 4 per minute of its own does not loosen the plan's 2 per minute.
    expect(await statuses(own.token, 3)).toEqual([200, 200, 429]);
    const tighter = await onFreePlan('T', { limit: 1, windowSeconds: 60 });
    expect(await statuses(tighter.token, 2)).toEqual([200, 429]);
    // A limit of another window adds to the plan's: 2 per minute (plan) and 1 per hour (own).
    const hourly = await onFreePlan('H', { limit: 1, windowSeconds: 3600 });
    expect(await statuses(hourly.token, 2)).toEqual([200, 429]);
    await expect(keyward.createKey(ORG, { name: 'X', type: 'secret', plan: 'gold' })).rejects.toMatchObject({
      code: 'validation_error',
      details: [{ path: 'plan' }],
    });
  });

  it("applies an organization's plan to its keys from the next request, on this instance and another", async () => {
    const a = instance();
    const b = instance(a.store);
    const one = await a.keyward.createKey(ORG, { name: 'One', type: 'secret' });
    const two = await a.keyward.createKey(ORG, { name: 'Two', type: 'secret' });
    // Cached on both instances without limits.
    expect(await a.statuses(one.token, 4)).toEqual([200, 200, 200, 200]);
    expect(await b.statuses(two.token, 1)).toEqual([200]);
    await a.keyward.setOrganizationPlan(ORG, 'team');
    expect(await a.keyward.getOrganizationPlan(ORG)).toBe('team');
    // team: 3 per minute for the whole organization (in-memory counting: each instance counts its own).
    expect(await a.statuses(one.token, 2)).toEqual([200, 200]);
    expect(await a.statuses(two.token, 2)).toEqual([200, 429]);
    expect(await b.statuses(two.token, 4)).toEqual([200, 200, 200, 429]);
    // Back to no plan: no limits.
    await b.keyward.setOrganizationPlan(ORG, null);
    expect(await a.statuses(one.token, 3)).toEqual([200, 200, 200]);
    await expect(a.keyward.setOrganizationPlan(ORG, 'gold')).rejects.toMatchObject({
      code: 'validation_error',
    });
  });
});
