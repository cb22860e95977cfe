import type { AddressInfo } from 'node:net';
import { createAdminRouter } from '@keyward/admin';
import { createKeyward, type Keyward } from '@keyward/core';
import { seededRandom } from '@keyward/core/testing';
import { apiKeyAuth } from '@keyward/express';
import { MongoKeyStore } from '@keyward/mongo';
import { useTestDatabase } from '@keyward/test-db';
import express from 'express';
import mongoose from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const db = useTestDatabase('demo-revocation');
const ORG = 'org_revocation';
const PEPPER = 'keyward-revocation-test-pepper';
/** Shortened last-use flush (default 1 s / 60 s). */
const USAGE = { flushDelayMs: 100, intervalMs: 100 };
const KEYS = 100;
const CLIENTS_PER_INSTANCE = 3;
/** Which key each client uses next: seeded, printed, and replayed with `KEYWARD_RACES_SEED=<seed>`. */
const SEED = Number(process.env.KEYWARD_RACES_SEED || Math.floor(Math.random() * 2 ** 31));
if (!Number.isSafeInteger(SEED)) throw new TypeError('KEYWARD_RACES_SEED must be an integer');
console.log(`[revocation] seed ${SEED} (replay with KEYWARD_RACES_SEED=${SEED})`);

interface Instance {
  url: string;
  keyward: Keyward;
  close(): Promise<void>;
}

/** One app instance: its own connection, store, service, admin API and `/v1/whoami`, listening on loopback. */
async function startInstance(): Promise<Instance> {
  const connection = await mongoose.createConnection(db.uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
  const store = new MongoKeyStore({ connection });
  await store.ensureIndexes();
  const keyward = createKeyward({
    store,
    scopes: ['a:read'],
    publicScopes: ['a:read'],
    pepper: PEPPER,
    usage: USAGE,
  });
  const app = express();
  app.use(
    '/api/keys',
    createAdminRouter({
      keyward,
      authorize: () => ({ organizationId: ORG, actor: { type: 'user', id: 'admin' } }),
      // 100 revocations of one organization in seconds: the write cap (120 a minute) has its own tests.
      writesPerMinute: false,
    }),
  );
  app.get('/v1/whoami', apiKeyAuth(keyward), (req, res) => {
    res.json({ apiKey: req.apiKey });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    keyward,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await keyward.close();
      await store.close();
      await connection.close();
    },
  };
}

const json = { 'content-type': 'application/json' };

describe('Revocation under load, over HTTP, on two instances sharing one database', () => {
  const instances: Instance[] = [];
  beforeAll(async () => {
    instances.push(await startInstance(), await startInstance());
  });
  afterAll(async () => {
    await Promise.all(instances.map((i) => i.close()));
  });

  it('revokes 100 keys in use from several clients: every revocation 2xx, every key refused everywhere and read back revoked', async () => {
    const [a, b] = instances as [Instance, Instance];
    const keys: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < KEYS; i++) {
      const res = await fetch(`${a.url}/api/keys`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ name: `Key ${i}`, type: 'secret' }),
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { data: { id: string }; token: string };
      keys.push({ id: body.data.id, token: body.token });
    }

    // Clients on both instances use random keys as hard as they can until the revocations are done.
    let using = true;
    let uses = 0;
    const random = seededRandom(SEED);
    const client = async (instance: Instance) => {
      while (using) {
        const { token } = keys[Math.floor(random() * keys.length)] as { token: string };
        const res = await fetch(`${instance.url}/v1/whoami`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await res.arrayBuffer();
        uses++;
      }
    };
    const clients = [a, b].flatMap((instance) =>
      Array.from({ length: CLIENTS_PER_INSTANCE }, () => client(instance)),
    );

    // Each key disabled (even) or deleted (odd) through one instance or the other, ten at a time.
    const statuses: number[] = [];
    for (let from = 0; from < KEYS; from += 10) {
      await Promise.all(
        keys.slice(from, from + 10).map(async ({ id }, j) => {
          const i = from + j;
          const instance = i % 4 < 2 ? a : b;
          const res =
            i % 2 === 0
              ? await fetch(`${instance.url}/api/keys/${id}`, {
                  method: 'PATCH',
                  headers: json,
                  body: JSON.stringify({ disabled: true }),
                })
              : await fetch(`${instance.url}/api/keys/${id}`, { method: 'DELETE' });
          await res.arrayBuffer();
          statuses.push(res.status);
        }),
      );
    }
    using = false;
    await Promise.all(clients);
    console.log(`[revocation] ${uses} uses by ${clients.length} clients during ${KEYS} revocations`);
    expect(statuses.filter((s) => s < 200 || s > 299)).toEqual([]);

    // Past the usage flush and the change feed, every key is refused on both instances...
    await Promise.all(instances.map((i) => i.keyward.flushUsage()));
    const refusedEverywhere = async () => {
      for (const instance of instances) {
        for (const { token } of keys) if ((await instance.keyward.verify(token)).valid) return false;
      }
      return true;
    };
    const deadline = Date.now() + 10_000;
    while (!(await refusedEverywhere()) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    for (const [n, { token }] of keys.entries()) {
      for (const instance of instances) {
        expect(await instance.keyward.verify(token)).toEqual({
          valid: false,
          code: n % 2 === 0 ? 'disabled_api_key' : 'invalid_api_key',
        });
      }
    }
    // ...and reads back revoked through the admin API of both.
    for (const [n, { id }] of keys.entries()) {
      for (const instance of instances) {
        const res = await fetch(`${instance.url}/api/keys/${id}`);
        if (n % 2 === 0) {
          expect(res.status).toBe(200);
          expect(((await res.json()) as { data: unknown }).data).toMatchObject({
            disabled: true,
            status: 'disabled',
          });
        } else {
          expect(res.status).toBe(404);
          await res.arrayBuffer();
        }
      }
    }
  }, 120_000);
});
