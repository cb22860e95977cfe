import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { EXPRESS_VERSIONS, keywardFixture, verifiedSecretKey } from './test-fixtures.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** What a handler sees of `req.apiKey`, and what reflection on the request shows of it. */
function echo(req: Request, res: Response) {
  res.json({
    id: req.apiKey?.id ?? null,
    own: Object.hasOwn(req, 'apiKey'),
    listed: Object.keys(req).includes('apiKey'),
  });
}

describe.each(EXPRESS_VERSIONS)('req.apiKey on %s', (_version, express) => {
  it("is the key, kept by an accessor of the app's request prototype: no own property of the request", async () => {
    const f = await keywardFixture();
    const app = express();
    app.get('/r', apiKeyAuth(f.keyward), echo);

    const res = await request(app).get('/r').set(bearer(f.secret.token));

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: f.secret.key.id, own: false, listed: false });
    expect(typeof Object.getOwnPropertyDescriptor(app.request, 'apiKey')?.get).toBe('function');
    // Each request has its own: the next one without a key sees none.
    const next = await request(app).get('/r');
    expect(next.status).toBe(401);
  });

  it('holds the verified key itself, and each concurrent request its own', async () => {
    const f = await keywardFixture();
    const app = express();
    const seen: unknown[] = [];
    app.get(
      '/r',
      apiKeyAuth(f.keyward),
      (_req, _res, next) => setImmediate(next), // other requests run in between
      (req, res) => {
        seen.push(req.apiKey);
        res.json({ id: req.apiKey?.id });
      },
    );
    const tokens = [f.secret.token, f.publicKey.token, f.secret.token, f.publicKey.token];
    const answers = await Promise.all(tokens.map((t) => request(app).get('/r').set(bearer(t))));
    expect(answers.map((a) => a.body.id)).toEqual([
      f.secret.key.id,
      f.publicKey.key.id,
      f.secret.key.id,
      f.publicKey.key.id,
    ]);
    expect(seen.find((k) => (k as { id: string }).id === f.secret.key.id)).toEqual(verifiedSecretKey(f));
  });

  it("is seen by the parent app's handlers after a mounted app that set it, mounted before or after its first request", async () => {
    const f = await keywardFixture();
    for (const order of ['mounted first', 'served alone first'] as const) {
      const parent = express();
      const sub = express();
      sub.use(apiKeyAuth(f.keyward)); // no route in the sub-app: the request goes back to the parent
      if (order === 'served alone first') {
        sub.get('/alone', echo);
        expect((await request(sub).get('/alone').set(bearer(f.secret.token))).body.id).toBe(f.secret.key.id);
      }
      parent.use('/sub', sub);
      parent.get('/sub/after', echo);

      const res = await request(parent).get('/sub/after').set(bearer(f.secret.token));

      expect(res.status, order).toBe(200);
      expect(res.body, order).toEqual({ id: f.secret.key.id, own: false, listed: false });
    }
  });

  it('is seen inside a mounted app when the parent set it', async () => {
    const f = await keywardFixture();
    const parent = express();
    const sub = express();
    sub.get('/in', echo);
    parent.use(apiKeyAuth(f.keyward));
    parent.use('/sub', sub);

    const res = await request(parent).get('/sub/in').set(bearer(f.secret.token));

    expect(res.body).toEqual({ id: f.secret.key.id, own: false, listed: false });
  });

  it('can be cleared or replaced by the app like a property, and is cleared by a later refusal', async () => {
    const f = await keywardFixture();
    const app = express();
    app.get(
      '/cleared',
      apiKeyAuth(f.keyward),
      (req, _res, next) => {
        req.apiKey = undefined;
        next();
      },
      echo,
    );
    app.get(
      '/replaced',
      apiKeyAuth(f.keyward),
      (req, _res, next) => {
        req.apiKey = { ...(req.apiKey as NonNullable<Request['apiKey']>), id: 'key_other' };
        next();
      },
      echo,
    );
    app.get(
      '/refused',
      apiKeyAuth(f.keyward),
      apiKeyAuth(f.keyward, {
        type: 'secret',
        onError: (error, req, res) => {
          res.status(error.status).json({ id: req.apiKey?.id ?? null });
        },
      }),
      echo,
    );

    expect((await request(app).get('/cleared').set(bearer(f.secret.token))).body.id).toBeNull();
    expect((await request(app).get('/replaced').set(bearer(f.secret.token))).body.id).toBe('key_other');
    const refused = await request(app).get('/refused').set(bearer(f.publicKey.token));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ id: null });
  });

  it('leaves the request prototypes of other apps and of Express itself alone', async () => {
    const f = await keywardFixture();
    const app = express();
    const other = express();
    app.get('/r', apiKeyAuth(f.keyward), echo);
    expect((await request(app).get('/r').set(bearer(f.secret.token))).status).toBe(200);

    expect('apiKey' in other.request).toBe(false);
    expect(Object.hasOwn(express.request, 'apiKey')).toBe(false);
  });

  it("is an own property where the app's request prototype has an apiKey of its own", async () => {
    const f = await keywardFixture();
    const app = express();
    Object.defineProperty(app.request, 'apiKey', { value: undefined, writable: true, configurable: true });
    app.get('/r', apiKeyAuth(f.keyward), echo);

    const res = await request(app).get('/r').set(bearer(f.secret.token));

    expect(res.body).toEqual({ id: f.secret.key.id, own: true, listed: true });
    expect(Object.getOwnPropertyDescriptor(app.request, 'apiKey')?.get).toBeUndefined();
  });
});

describe('req.apiKey without Express', () => {
  it('is an own property of a plain node:http request', async () => {
    const f = await keywardFixture();
    const guard = apiKeyAuth(f.keyward);
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      guard(
        req as Request,
        res as unknown as Response,
        (() => {
          const key = (req as Request).apiKey;
          res.end(JSON.stringify({ id: key?.id ?? null, own: Object.hasOwn(req, 'apiKey') }));
        }) as NextFunction,
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: bearer(f.secret.token) });
      expect(await res.json()).toEqual({ id: f.secret.key.id, own: true });
    } finally {
      server.close();
    }
  });
});
