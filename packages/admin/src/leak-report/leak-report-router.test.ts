import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createKeyward, type KeyEvent, type Keyward, MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeakReportRouter, type LeakReportRouterOptions } from './leak-report-router.js';

const ORG = 'org_leaks';
const MOUNT = '/security/leaks/github';
const START = Date.parse('2030-01-01T00:00:00.000Z');

interface Signer {
  id: string;
  privateKey: KeyObject;
  pem: string;
}

function newSigner(id: string): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { id, privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function signature(body: string, signer: Signer): string {
  return sign('sha256', Buffer.from(body), { key: signer.privateKey, dsaEncoding: 'der' }).toString('base64');
}

/** GitHub's key document, served by a real HTTP server on 127.0.0.1 (what it serves can change). */
const keyServer = {
  signers: [] as Signer[],
  fetches: 0,
  status: 200,
  url: '',
  close: () => {},
};

beforeAll(async () => {
  const app = express();
  app.get('/meta/public_keys/secret_scanning', (_req, res) => {
    keyServer.fetches++;
    if (keyServer.status !== 200) {
      res.status(keyServer.status).end();
      return;
    }
    res.json({
      public_keys: keyServer.signers.map((s, i) => ({
        key_identifier: s.id,
        key: s.pem,
        is_current: i === 0,
      })),
    });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  keyServer.url = `http://127.0.0.1:${port}/meta/public_keys/secret_scanning`;
  keyServer.close = () => server.close();
});

afterAll(() => keyServer.close());

const GITHUB = newSigner('90a421169f0a406205f1563a953312f0be898d3c7b6c06b681aa86a874555f4a');
const ROTATED = newSigner('bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c');
const ATTACKER = newSigner(GITHUB.id);

function leakApp(
  overrides: Partial<LeakReportRouterOptions> = {},
  store = new MemoryKeyStore(),
): { app: express.Express; keyward: Keyward; events: KeyEvent[]; clock: { now: number } } {
  keyServer.signers = [GITHUB];
  keyServer.fetches = 0;
  keyServer.status = 200;
  const events: KeyEvent[] = [];
  const clock = { now: START };
  const keyward = createKeyward({
    store,
    scopes: ['snippets:read'],
    pepper: TEST_PEPPER,
    clock: () => clock.now,
    onEvent: (event) => void events.push(event),
  });
  const app = express();
  app.use(
    MOUNT,
    createLeakReportRouter({
      keyward,
      onLeak: 'revoke',
      keysUrl: keyServer.url,
      clock: () => clock.now,
      ...overrides,
    }),
  );
  return { app, keyward, events, clock };
}

function entry(token: string, type = 'keyward_secret_key') {
  return { token, type, url: 'https://github.com/octo/repo/blob/abc123/config.js', source: 'content' };
}

function post(app: express.Express, body: string, signer: Signer | null = GITHUB, sig?: string) {
  const test = request(app).post(MOUNT).set('Content-Type', 'application/json');
  if (signer) {
    test.set('Github-Public-Key-Identifier', signer.id);
    test.set('Github-Public-Key-Signature', sig ?? signature(body, signer));
  }
  return test.send(body);
}

describe('createLeakReportRouter', () => {
  it('revokes a reported secret key, records key.leaked with url and source, and answers true_positive', async () => {
    const { app, keyward, events } = leakApp();
    const { key, token } = await keyward.createKey(ORG, { name: 'CI', type: 'secret' });
    const body = JSON.stringify([entry(token)]);

    const res = await post(app, body);

    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual([
      { token_raw: token, token_type: 'keyward_secret_key', label: 'true_positive' },
    ]);
    expect(await keyward.verify(token)).toEqual({ valid: false, code: 'invalid_api_key' });
    expect(await keyward.getKey(ORG, key.id)).toBeNull();
    const leaked = events.find((e) => e.type === 'key.leaked');
    expect(leaked).toMatchObject({
      keyId: key.id,
      source: 'github:content',
      url: 'https://github.com/octo/repo/blob/abc123/config.js',
      actor: { type: 'system', id: 'leak-report' },
    });
    expect(events.map((e) => e.type)).toEqual(['key.created', 'key.leaked', 'key.deleted']);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('disables the key with onLeak: disable, and only reports it with onLeak: report', async () => {
    const disabling = leakApp({ onLeak: 'disable' });
    const a = await disabling.keyward.createKey(ORG, { name: 'A', type: 'secret' });
    const body = JSON.stringify([entry(a.token)]);
    expect((await post(disabling.app, body)).body[0].label).toBe('true_positive');
    expect(await disabling.keyward.verify(a.token)).toEqual({ valid: false, code: 'disabled_api_key' });
    expect(await disabling.keyward.getKey(ORG, a.key.id)).toMatchObject({ disabled: true });

    const reporting = leakApp({ onLeak: 'report' });
    const b = await reporting.keyward.createKey(ORG, { name: 'B', type: 'secret' });
    expect((await post(reporting.app, JSON.stringify([entry(b.token)]))).body[0].label).toBe('true_positive');
    expect(await reporting.keyward.verify(b.token)).toMatchObject({ valid: true });
    expect(reporting.events.map((e) => e.type)).toEqual(['key.created', 'key.leaked']);
  });

  it('only reports a public key (public by design), as true_positive', async () => {
    const { app, keyward, events } = leakApp();
    const { token } = await keyward.createKey(ORG, { name: 'Web', type: 'public' });
    const res = await post(app, JSON.stringify([entry(token, 'keyward_publishable_key')]));
    expect(res.body[0].label).toBe('true_positive');
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
    expect(events.map((e) => e.type)).toEqual(['key.created', 'key.leaked']);
  });

  it('refuses the key on a second instance sharing the store within the freshness bound', async () => {
    const store = new MemoryKeyStore();
    const { app, keyward } = leakApp({}, store);
    const other = createKeyward({ store, scopes: ['snippets:read'], pepper: TEST_PEPPER });
    const { token } = await keyward.createKey(ORG, { name: 'CI', type: 'secret' });
    expect(await other.verify(token)).toMatchObject({ valid: true }); // cached on the other instance

    expect((await post(app, JSON.stringify([entry(token)]))).status).toBe(200);

    // Contract §2: within 1 s on every other instance; asserted with a generous 3 s bound.
    const deadline = Date.now() + 3000;
    let result = await other.verify(token);
    while (result.valid && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      result = await other.verify(token);
    }
    expect(result).toEqual({ valid: false, code: 'invalid_api_key' });
    await other.close();
  });

  it('answers false_positive for tokens of other formats and unknown Keyward tokens, acting on none', async () => {
    const { app, keyward, events } = leakApp();
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    // A well-formed token of another store: a Keyward token this app's store does not hold.
    const elsewhere = createKeyward({
      store: new MemoryKeyStore(),
      scopes: ['snippets:read'],
      pepper: TEST_PEPPER,
    });
    const { token: unknown } = await elsewhere.createKey(ORG, { name: 'Elsewhere', type: 'secret' });
    const others = ['ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'AKIAIOSFODNN7EXAMPLE', unknown];
    const res = await post(app, JSON.stringify([...others.map((t) => entry(t, 'other')), entry(token)]));
    expect(res.status).toBe(200);
    expect(res.body.map((f: { label: string }) => f.label)).toEqual([
      'false_positive',
      'false_positive',
      'false_positive',
      'true_positive',
    ]);
    expect(res.body[0]).toEqual({ token_raw: others[0], token_type: 'other', label: 'false_positive' });
    expect(events.filter((e) => e.type === 'key.leaked')).toHaveLength(1);
  });

  it('handles 1,000 tokens in one report, and refuses 1,001 with 400', async () => {
    const { app, keyward } = leakApp();
    const keys = await Promise.all(
      Array.from({ length: 10 }, (_, i) => keyward.createKey(ORG, { name: `K${i}`, type: 'secret' })),
    );
    const entries = Array.from({ length: 1000 }, (_, i) =>
      i % 100 === 0 ? entry((keys[i / 100] as { token: string }).token) : entry(`ghp_${i}`, 'other'),
    );
    const res = await post(app, JSON.stringify(entries));
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1000);
    expect(res.body.filter((f: { label: string }) => f.label === 'true_positive')).toHaveLength(10);
    expect(res.body[100]).toMatchObject({ token_raw: keys[1]?.token, label: 'true_positive' });
    for (const { token } of keys) expect((await keyward.verify(token)).valid).toBe(false);

    const tooMany = await post(app, JSON.stringify([...entries, entry('ghp_x', 'other')]));
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('validation_error');
  });

  describe('refuses with 401 and acts on nothing', () => {
    async function expectRefused(send: (app: express.Express, body: string) => request.Test) {
      const { app, keyward, events } = leakApp();
      const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
      const res = await send(app, JSON.stringify([entry(token)]));
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(await keyward.verify(token)).toMatchObject({ valid: true });
      expect(events.map((e) => e.type)).toEqual(['key.created']);
    }

    it('a report without a signature or key id', async () => {
      await expectRefused((app, body) => post(app, body, null));
      await expectRefused((app, body) =>
        request(app).post(MOUNT).set('Github-Public-Key-Identifier', GITHUB.id).send(body),
      );
      await expectRefused((app, body) =>
        request(app).post(MOUNT).set('Github-Public-Key-Signature', signature(body, GITHUB)).send(body),
      );
    });

    it('a signature that does not verify: garbage, or another key pair under the published key id', async () => {
      await expectRefused((app, body) => post(app, body, GITHUB, 'MEUCIQDnot-a-signature'));
      await expectRefused((app, body) => post(app, body, GITHUB, Buffer.from('x').toString('base64')));
      await expectRefused((app, body) => post(app, body, ATTACKER));
    });

    it('a key id that is not published', async () => {
      await expectRefused((app, body) => post(app, body, newSigner('not-published')));
    });

    it('a replayed body with the signature of another body', async () => {
      const other = JSON.stringify([entry('ghp_something_else', 'other')]);
      await expectRefused((app, body) => post(app, body, GITHUB, signature(other, GITHUB)));
    });

    it('a body changed after signing (one token added)', async () => {
      await expectRefused((app, body) => {
        const sig = signature('[]', GITHUB);
        return post(app, body, GITHUB, sig);
      });
    });
  });

  it('checks the signature before the body: an unsigned malformed body is 401, a signed one 400', async () => {
    const { app } = leakApp();
    expect((await post(app, '{not json', null)).status).toBe(401);
    for (const body of ['{not json', '{"token":"x"}', '[{"type":"t"}]', '[{"token":1,"type":"t"}]']) {
      const res = await post(app, body);
      expect(res.status, body).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });

  it('answers an empty body as any other: 401 unsigned, 400 signed', async () => {
    const { app } = leakApp();
    expect((await request(app).post(MOUNT)).status).toBe(401);
    const signed = await request(app)
      .post(MOUNT)
      .set('Github-Public-Key-Identifier', GITHUB.id)
      .set('Github-Public-Key-Signature', signature('', GITHUB));
    expect(signed.status).toBe(400);
    expect(signed.body.error.code).toBe('validation_error');
  });

  it('refuses a body over maxBodyBytes with 413', async () => {
    const { app } = leakApp({ maxBodyBytes: 1024 });
    const body = JSON.stringify([entry('x'.repeat(2000), 'other')]);
    const res = await post(app, body);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  describe('the signing keys', () => {
    it('are fetched once and cached for cacheTtlMs, then fetched again', async () => {
      const { app, clock } = leakApp({ cacheTtlMs: 600_000 });
      const body = '[]';
      for (let i = 0; i < 3; i++) expect((await post(app, body)).status).toBe(200);
      expect(keyServer.fetches).toBe(1);
      clock.now += 600_000;
      expect((await post(app, body)).status).toBe(200);
      expect(keyServer.fetches).toBe(2);
    });

    it('are fetched again once for an unknown key id (a rotation), at most once per refetchIntervalMs', async () => {
      const { app, clock } = leakApp({ refetchIntervalMs: 60_000 });
      expect((await post(app, '[]')).status).toBe(200);
      expect(keyServer.fetches).toBe(1);

      // GitHub rotates: the new key is published after our fetch.
      keyServer.signers = [ROTATED, GITHUB];
      clock.now += 60_000;
      expect((await post(app, '[]', ROTATED)).status).toBe(200);
      expect(keyServer.fetches).toBe(2);

      // Made-up key ids: refused, and at most one fetch per interval however many arrive.
      for (let i = 0; i < 5; i++) expect((await post(app, '[]', newSigner(`made-up-${i}`))).status).toBe(401);
      expect(keyServer.fetches).toBe(2);
      clock.now += 60_000;
      for (let i = 0; i < 5; i++) expect((await post(app, '[]', newSigner(`later-${i}`))).status).toBe(401);
      expect(keyServer.fetches).toBe(3);
    });

    it('answer 503 while none could ever be fetched, and keep the last ones when a fetch fails', async () => {
      const { app, clock } = leakApp({ cacheTtlMs: 1000, refetchIntervalMs: 1000 });
      keyServer.status = 500;
      const down = await post(app, '[]');
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('key_store_unavailable');

      keyServer.status = 200;
      clock.now += 1000;
      expect((await post(app, '[]')).status).toBe(200);
      keyServer.status = 500;
      clock.now += 1000;
      expect((await post(app, '[]')).status).toBe(200);
      expect(keyServer.fetches).toBe(3);
    });
  });

  it('throws a TypeError at start-up for wrong options', () => {
    const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['a'], pepper: TEST_PEPPER });
    const bad: unknown[] = [
      undefined,
      { keyward },
      { keyward, onLeak: 'delete' },
      { keyward: {}, onLeak: 'revoke' },
      { keyward, onLeak: 'revoke', keysUrl: 'ftp://example.com/keys' },
      { keyward, onLeak: 'revoke', cacheTtlMs: 0 },
      { keyward, onLeak: 'revoke', maxBodyBytes: 1.5 },
      { keyward, onLeak: 'revoke', fetch: 'fetch' },
    ];
    for (const options of bad) {
      expect(
        () => createLeakReportRouter(options as LeakReportRouterOptions),
        JSON.stringify(options),
      ).toThrow(TypeError);
    }
  });

  it('answers 500 (and acts on nothing) when a body parser ran before it', async () => {
    keyServer.signers = [GITHUB];
    keyServer.status = 200;
    keyServer.fetches = 0;
    const keyward = createKeyward({ store: new MemoryKeyStore(), scopes: ['a'], pepper: TEST_PEPPER });
    const app = express();
    app.use(express.json());
    app.use(MOUNT, createLeakReportRouter({ keyward, onLeak: 'revoke', keysUrl: keyServer.url }));
    const { token } = await keyward.createKey(ORG, { name: 'K', type: 'secret' });
    const res = await post(app, JSON.stringify([entry(token)]));
    expect(res.status).toBe(500);
    expect(keyServer.fetches).toBe(0);
    expect(await keyward.verify(token)).toMatchObject({ valid: true });
  });
});
