import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setup } from './test-app.js';

const FIELDS = [
  'name',
  'type',
  'scopes',
  'expiresAt',
  'disabled',
  'gracePeriodSeconds',
  '__proto__',
  'constructor',
];

/** Field values that are near the valid ones as well as anything JSON can hold. */
const value = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(
    'public',
    'secret',
    'snippets:read',
    'snippets:write',
    '2031-01-01T00:00:00Z',
    '2000-01-01T00:00:00Z',
  ),
  fc.array(fc.constantFrom('snippets:read', 'snippets:write', 'billing:read', 'nope')),
  fc.integer({ min: -1, max: 700_000 }),
  fc.string({ maxLength: 120 }),
);

/** Any JSON body: arbitrary values, and objects with the API's own field names. */
const body = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...FIELDS), value));

/** Raw text sent as `application/json`: mostly not JSON at all. */
const rawText = fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'binary' }));

const RUNS = { numRuns: 150 };

describe('arbitrary client input', () => {
  it('never makes POST / answer a 5xx', async () => {
    const { api } = setup();
    await fc.assert(
      fc.asyncProperty(body, async (json) => {
        const res = await api.post('').set('Content-Type', 'application/json').send(JSON.stringify(json));
        expect(res.status).toBeLessThan(500);
        expect([201, 400]).toContain(res.status);
      }),
      RUNS,
    );
  });

  it('never makes PATCH /:id answer a 5xx', async () => {
    const { api, createKey } = setup();
    const keys = await Promise.all([
      createKey('org_a', { name: 'Secret', type: 'secret' }),
      createKey('org_a', { name: 'Public', type: 'public' }),
    ]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), body, async ({ key }, json) => {
        const res = await api
          .patch(`/${key.id}`)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(json));
        expect(res.status).toBeLessThan(500);
      }),
      RUNS,
    );
  });

  it('never makes POST /:id/roll answer a 5xx', async () => {
    const { api, createKey } = setup();
    await fc.assert(
      fc.asyncProperty(body, async (json) => {
        const { key } = await createKey();
        const res = await api
          .post(`/${key.id}/roll`)
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(json));
        expect(res.status).toBeLessThan(500);
      }),
      RUNS,
    );
  });

  it('never answers a 5xx to raw text sent as JSON', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const routes = [() => api.post(''), () => api.patch(`/${key.id}`), () => api.post(`/${key.id}/roll`)];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), rawText, async (route, text) => {
        const res = await route().set('Content-Type', 'application/json').send(text);
        expect(res.status).toBeLessThan(500);
      }),
      RUNS,
    );
  });

  it('never answers a 5xx to an arbitrary id on any route', async () => {
    const { api } = setup();
    const routes = [
      (id: string) => api.get(`/${id}`),
      (id: string) => api.patch(`/${id}`, { name: 'X' }),
      (id: string) => api.post(`/${id}/roll`),
      (id: string) => api.delete(`/${id}`),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.string({ minLength: 1 }), async (route, id) => {
        const res = await route(encodeURIComponent(id));
        expect(res.status).toBeLessThan(500);
      }),
      RUNS,
    );
  });
});
