// Test helpers (not part of the build): a Keyward on a memory store with a controllable clock, and an
// Express app with the admin router mounted at /api/keys, where the `x-org` header names the caller's
// organization (no header: nobody signed in).
import {
  type ApiKey,
  createKeyward,
  type KeyStore,
  type KeywardOptions,
  MemoryKeyStore,
} from '@keyward/core';
import { keySchema } from '@keyward/core/schemas';
import { TEST_PEPPER } from '@keyward/core/testing';
import express from 'express';
import request from 'supertest';
import type {} from 'vitest';
import { createAdminRouter } from './admin-router.js';
import type { Authorize } from './options.js';

/** The `lifetime` option of `createKeyward`. */
type LifetimeOptions = NonNullable<KeywardOptions['lifetime']>;

declare module 'vitest' {
  export interface ProvidedContext {
    expressMajor: 4 | 5;
  }
}

export const MOUNT = '/api/keys';
export const START = Date.parse('2030-01-01T00:00:00.000Z');
export const SCOPES = ['snippets:read', 'snippets:write', 'billing:read'];
export const PUBLIC_SCOPES = ['snippets:read'];
/** A well-formed id that names no key. */
export const UNKNOWN_ID = 'key_0123456789ABCDEFGHIJ';
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The fields of a secret Key, sorted: those of core's `keySchema` (the one wire definition) but `token`. */
export const KEY_FIELDS = Object.keys(keySchema.shape)
  .filter((field) => field !== 'token')
  .sort();

/**
 * Reads the organization from `x-org`; `x-deny: forbidden` refuses with 403; `x-operator: yes` names the
 * caller the app's operator (plans and credits).
 */
export const headerAuthorize: Authorize = (req) => {
  if (req.get('x-deny') === 'forbidden') return 'forbidden';
  const org = req.get('x-org');
  if (!org) return null;
  return req.get('x-operator') === 'yes' ? { organizationId: org, operator: true } : { organizationId: org };
};

export interface SetupOptions {
  store?: KeyStore;
  authorize?: Authorize;
  /** Runs on the app before the router is mounted (e.g. a host's own body parser). */
  before?: (app: express.Express) => void;
  /** The router's `trustedOrigins`. */
  trustedOrigins?: string[];
  /** The router's `writesPerMinute`. @default its own default (120) */
  writesPerMinute?: number | false;
  /** The router's `grantableScopes`. */
  grantableScopes?: string[];
  /** The service's `lifetime` policy. */
  lifetime?: LifetimeOptions;
}

/** Builds a fresh Keyward, clock and app for one test. */
export function setup(options: SetupOptions = {}) {
  let now = START;
  const clock = {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
  const store = options.store ?? new MemoryKeyStore();
  const keyward = createKeyward({
    store,
    scopes: SCOPES,
    publicScopes: PUBLIC_SCOPES,
    clock: clock.now,
    pepper: TEST_PEPPER,
    ...(options.lifetime ? { lifetime: options.lifetime } : {}),
  });
  const app: express.Express = express();
  options.before?.(app);
  app.use(
    MOUNT,
    createAdminRouter({
      keyward,
      authorize: options.authorize ?? headerAuthorize,
      ...(options.trustedOrigins ? { trustedOrigins: options.trustedOrigins } : {}),
      ...(options.writesPerMinute !== undefined ? { writesPerMinute: options.writesPerMinute } : {}),
      ...(options.grantableScopes ? { grantableScopes: options.grantableScopes } : {}),
    }),
  );

  /**
   * Requests as a member of `org` (`null`: nobody signed in). `post` and `patch` are sent as JSON, like
   * the documented clients: without a `body` they carry `Content-Type: application/json` and no body
   * (a test may `.set()` another type or `.send()` its own text).
   */
  const as = (org: string | null = 'org_a') => {
    const auth = (test: request.Test) => (org === null ? test : test.set('x-org', org));
    const json = (test: request.Test, body: unknown) =>
      body === undefined ? test.set('Content-Type', 'application/json') : test.send(body as object);
    return {
      get: (path = '') => auth(request(app).get(MOUNT + path)),
      post: (path = '', body?: unknown) => json(auth(request(app).post(MOUNT + path)), body),
      patch: (path: string, body?: unknown) => json(auth(request(app).patch(MOUNT + path)), body),
      put: (path: string, body?: unknown) => json(auth(request(app).put(MOUNT + path)), body),
      delete: (path: string) => auth(request(app).delete(MOUNT + path)),
    };
  };

  /** Creates a key through the service (not the API), for fixtures. */
  const createKey = async (
    org = 'org_a',
    input: Parameters<typeof keyward.createKey>[1] = { name: 'Server', type: 'secret' },
  ) => keyward.createKey(org, input);

  return { app, keyward, store, clock, api: as(), as, createKey };
}

/** The service's view of a key, for "nothing changed" assertions. */
export async function snapshot(keyward: ReturnType<typeof setup>['keyward'], org: string, id: string) {
  return (await keyward.getKey(org, id)) as ApiKey;
}

type Client = ReturnType<ReturnType<typeof setup>['as']>;

/** One request to each route of the router, for `it.each`; `id` is the key the request is about. */
export const EVERY_ROUTE: Array<[string, (client: Client, id: string) => request.Test]> = [
  ['GET /', (c) => c.get()],
  ['POST /', (c) => c.post('', { name: 'New', type: 'secret' })],
  ['GET /:id', (c, id) => c.get(`/${id}`)],
  ['PATCH /:id', (c, id) => c.patch(`/${id}`, { name: 'Changed', disabled: true })],
  ['POST /:id/roll', (c, id) => c.post(`/${id}/roll`, { gracePeriodSeconds: 0 })],
  ['DELETE /:id', (c, id) => c.delete(`/${id}`)],
];

/** The routes about one key (every route but list and create). */
export const KEY_ROUTES = EVERY_ROUTE.slice(2);
