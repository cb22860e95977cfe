import { createKeyward, type Keyward } from '@keyward/core';
import { TEST_PEPPER, testClock } from '@keyward/core/testing';
import { apiKeyAuth } from '@keyward/express';
import type { Request } from 'express';
import express5 from 'express5';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MongoKeyStore } from './mongo-store.js';
import { MONGOOSE_MAJORS, PATIENT_STORE, useConnections } from './test-connections.js';
import { uniqueCollection, uniqueOrganization } from './test-helpers.js';

// Credits across instances on FerretDB (docs/reference.md §10): two apps, each with its own service, store
// and connection, spending one key's balance from one ledger.

const { connect } = useConnections('credits');
const [, mongoose] = MONGOOSE_MAJORS[1];
let connectionA: Connection;
let connectionB: Connection;
const services: Keyward[] = [];

beforeAll(async () => {
  connectionA = (await connect(mongoose)) as unknown as Connection;
  connectionB = (await connect(mongoose)) as unknown as Connection;
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Two app instances on one collection; `clock` is shared (the period boundary is injected). */
function setUp(options: { idleReturnMs?: number; connectionA?: Connection } = {}) {
  const collection = uniqueCollection();
  const clock = testClock();
  const runs = { a: 0, b: 0 };
  const instance = (connection: Connection, name: 'a' | 'b') => {
    const keyward = createKeyward({
      store: new MongoKeyStore({ connection, collection, ...PATIENT_STORE }),
      scopes: ['snippets:read'],
      pepper: TEST_PEPPER,
      clock: clock.now,
      credits: { expectedInstances: 2, idleReturnMs: options.idleReturnMs ?? 60_000 },
    });
    services.push(keyward);
    const app = express5();
    app.get('/v1/cheap', apiKeyAuth(keyward), (_req, res) => {
      runs[name]++;
      res.json({ ok: true });
    });
    app.get('/v1/render', apiKeyAuth(keyward, { cost: 3 }), (_req, res) => {
      runs[name]++;
      res.json({ ok: true });
    });
    const batchCost = (req: Request) => {
      const n = Number(req.query.n ?? 1);
      return Number.isInteger(n) && n >= 0 && n <= 100 ? n : Number.NaN; // NaN: a fault of this app
    };
    app.get('/v1/batch', apiKeyAuth(keyward, { cost: batchCost }), (_req, res) => {
      runs[name]++;
      res.json({ ok: true });
    });
    return { keyward, app };
  };
  return { a: instance(options.connectionA ?? connectionA, 'a'), b: instance(connectionB, 'b'), clock, runs };
}

describe('credits across two instances on FerretDB', () => {
  it('admits exactly 5 of 20 concurrent requests with 5 credits left, refusing 15 with credits_exhausted', async () => {
    const { a, b, runs } = setUp();
    const org = uniqueOrganization();
    const { key, token } = await a.keyward.createKey(org, { name: 'metered', type: 'secret' });
    await a.keyward.setCredits(org, key.id, { remaining: 5 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        request((i % 2 === 0 ? a : b).app)
          .get('/v1/cheap')
          .set(bearer(token)),
      ),
    );
    const admitted = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(runs.a + runs.b).toBe(5);
    for (const r of refused) {
      expect(r.body.error.code).toBe('credits_exhausted');
      expect(r.headers['credits-remaining']).toBe('0');
      expect(r.headers['retry-after']).toBeUndefined(); // no refill is due
    }
    for (const r of admitted) expect(Number(r.headers['credits-remaining'])).toBeGreaterThanOrEqual(0);
    expect(await b.keyward.getCredits(org, key.id)).toMatchObject({
      remaining: 0,
      refill: null,
      source: 'key',
    });
  });

  it('refills at the period boundary of the injected clock, with Retry-After until it', async () => {
    const { a, b, clock } = setUp();
    const org = uniqueOrganization();
    const { key, token } = await a.keyward.createKey(org, { name: 'monthly', type: 'secret' });
    await a.keyward.setCredits(org, key.id, { remaining: 2, refill: { amount: 3, intervalSeconds: 60 } });
    clock.advance(15_000);
    expect((await request(a.app).get('/v1/cheap').set(bearer(token))).status).toBe(200);
    expect((await request(b.app).get('/v1/cheap').set(bearer(token))).status).toBe(200);
    const refused = await request(a.app).get('/v1/cheap').set(bearer(token));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('45');
    clock.advance(44_999);
    expect((await request(b.app).get('/v1/cheap').set(bearer(token))).status).toBe(429);
    clock.advance(1); // the boundary: the balance is 3 again
    const statuses = [];
    for (const app of [a.app, b.app, a.app, b.app]) {
      statuses.push((await request(app).get('/v1/cheap').set(bearer(token))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const balance = await a.keyward.getCredits(org, key.id);
    expect(balance?.remaining).toBe(0);
    expect(balance?.refillsAt?.getTime()).toBe(clock.now() + 60_000);
  });

  it('loses at most the block of an instance that dies holding it, and never overspends', async () => {
    const doomed = (await connect(mongoose)) as unknown as Connection;
    const { a, b, runs } = setUp({ connectionA: doomed });
    const org = uniqueOrganization();
    const { key, token } = await a.keyward.createKey(org, { name: 'crashy', type: 'secret' });
    await a.keyward.setCredits(org, key.id, { remaining: 100 });
    for (let i = 0; i < 3; i++)
      expect((await request(a.app).get('/v1/cheap').set(bearer(token))).status).toBe(200);
    // Instance A dies holding its block: its connection goes, and nothing it holds is ever given back.
    await doomed.close();
    let admittedByB = 0;
    for (;;) {
      const r = await request(b.app).get('/v1/cheap').set(bearer(token));
      if (r.status !== 200) {
        expect(r.body.error.code).toBe('credits_exhausted');
        break;
      }
      admittedByB++;
    }
    // A leased ⌊100 / (2 × 2)⌋ = 25 and spent 3: B spends exactly the other 75, never more.
    expect(admittedByB).toBe(75);
    expect(runs.a + runs.b).toBe(78);
    expect(runs.a + runs.b).toBeLessThanOrEqual(100);
  });

  it('charges a route its cost, a cost function per request, and a request through two guards once', async () => {
    const { a } = setUp();
    const org = uniqueOrganization();
    const { key, token } = await a.keyward.createKey(org, { name: 'costly', type: 'secret' });
    await a.keyward.setCredits(org, key.id, { remaining: 10 });
    const render = await request(a.app).get('/v1/render').set(bearer(token));
    expect(render.status).toBe(200);
    expect(render.headers['credits-remaining']).toBe('7');
    const batch = await request(a.app).get('/v1/batch?n=4').set(bearer(token));
    expect(batch.headers['credits-remaining']).toBe('3');
    const tooMuch = await request(a.app).get('/v1/batch?n=4').set(bearer(token));
    expect(tooMuch.status).toBe(429); // all or nothing: 3 left, 4 asked
    const bad = await request(a.app).get('/v1/batch?n=-1').set(bearer(token));
    expect(bad.status).toBe(500); // the app's cost function answered no cost: its fault, nothing spent

    const app = express5();
    app.use('/v1', apiKeyAuth(a.keyward));
    app.get('/v1/render', apiKeyAuth(a.keyward, { cost: 2 }), (_req, res) => res.json({ ok: true }));
    const twice = await request(app).get('/v1/render').set(bearer(token));
    expect(twice.status).toBe(200);
    expect(twice.headers['credits-remaining']).toBe('1'); // 1 by the first guard, 1 more by the second
    expect(await a.keyward.getCredits(org, key.id)).toMatchObject({ remaining: 1 });
  });
});
