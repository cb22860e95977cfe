import { type KeyStore, MemoryKeyStore } from '@keyward/core';
import { createTokenHasher } from '@keyward/core/store';
import createDebug from 'debug';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';

// Threat model "log leak" (docs/security.md): with every Keyward debug namespace on, a whole session of
// use — sign-up, create, verify, roll, disable, delete, refusals, a store that fails with the token in its
// error message — writes no token, no stored hash and no pepper to the logs or to the demo's fault log.

const PEPPER = 'log-leak-canary-pepper-0123456789';

/** A memory store whose calls can be made to fail with an error that quotes what it was given. */
function leakyStore() {
  const inner = new MemoryKeyStore();
  const state = { fail: false };
  const guard = async <T>(call: () => Promise<T>, detail: string): Promise<T> => {
    if (state.fail) throw new Error(`connection lost while handling ${detail}`);
    return call();
  };
  const store: KeyStore = {
    insert: (k) => guard(() => inner.insert(k), `${k.hash} ${k.token ?? ''}`),
    findByHash: (h) => guard(() => inner.findByHash(h), h),
    findById: (o, i) => guard(() => inner.findById(o, i), i),
    findBySlot: (s) => guard(() => inner.findBySlot(s), s),
    list: (o, q) => guard(() => inner.list(o, q), o),
    update: (o, i, c, x) => guard(() => inner.update(o, i, c, x), JSON.stringify(c)),
    subscribe: (l) => inner.subscribe(l),
  };
  return { store, state };
}

const previousLog = createDebug.log;
afterEach(() => {
  createDebug.disable();
  createDebug.log = previousLog;
});

describe('logs never carry a secret', () => {
  it('writes no token, hash or pepper with DEBUG=keyward:* through a whole session and a store outage', async () => {
    const lines: string[] = [];
    createDebug.enable('keyward:*');
    createDebug.log = (...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    };
    const faults: string[] = [];
    const { store, state } = leakyStore();
    const { app } = createDemoApp({ store, pepper: PEPPER, log: (line) => faults.push(line) });
    const agent = request.agent(app);
    const signup = await agent.post('/signup').send({ organization: 'Acme' });
    expect(signup.status).toBe(201);
    const publicToken: string = signup.body.defaultKey.token;
    const created = await agent.post('/api/keys').send({ name: 'Server', type: 'secret' });
    const secretToken: string = created.body.token;
    const id: string = created.body.data.id;
    const tokens = [publicToken, secretToken];
    await request(app).get('/v1/whoami').set('Authorization', `Bearer ${secretToken}`).expect(200);
    await request(app)
      .get('/v1/snippets')
      // Another last character (not always `x`: a token ending in `x` would stay valid, 1 time in 62).
      .set('X-API-Key', `${secretToken.slice(0, -1)}${secretToken.endsWith('x') ? 'y' : 'x'}`)
      .expect(401);
    await request(app)
      .post('/v1/snippets')
      .set('Authorization', `Bearer ${publicToken}`)
      .send({})
      .expect(403);
    const rolled = await agent.post(`/api/keys/${id}/roll`).send({ gracePeriodSeconds: 60 });
    tokens.push(rolled.body.token);
    await agent.patch(`/api/keys/${rolled.body.data.id}`).send({ disabled: true }).expect(200);
    await request(app).get('/v1/whoami').set('X-API-Key', rolled.body.token).expect(401);
    state.fail = true;
    await agent.delete(`/api/keys/${id}`).expect(503);
    await agent.post('/api/keys').send({ name: 'During outage', type: 'secret' }).expect(503);
    await request(app)
      .get('/v1/whoami')
      .set('X-API-Key', `kw_sk_${'A'.repeat(38)}`)
      .expect((res) => {
        expect([401, 503]).toContain(res.status);
      });
    state.fail = false;

    expect(lines.length).toBeGreaterThan(5); // the loggers were on and did write
    const hash = createTokenHasher(PEPPER);
    const secrets = [PEPPER, ...tokens, ...tokens.map((t) => hash(t)), ...tokens.map((t) => t.slice(6, 38))];
    for (const line of [...lines, ...faults]) {
      for (const secret of secrets) expect(line).not.toContain(secret);
    }
  });
});
