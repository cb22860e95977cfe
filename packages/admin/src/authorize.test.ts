import { KeywardError } from '@keyward/core';
import { describe, expect, it, vi } from 'vitest';
import type { Authorize } from './options.js';
import { EVERY_ROUTE, setup, snapshot } from './test-app.js';

const SERVICE_METHODS = ['listKeys', 'getKey', 'createKey', 'updateKey', 'rollKey', 'deleteKey'] as const;

/** A setup whose `authorize` answers `answer`, with spies on every service method. */
async function refusedSetup(authorize: Authorize) {
  const context = setup({ authorize });
  const { key } = await context.keyward.createKey('org_a', { name: 'Server', type: 'secret' });
  const before = await snapshot(context.keyward, 'org_a', key.id);
  const spies = SERVICE_METHODS.map((method) => vi.spyOn(context.keyward, method));
  return { ...context, key, before, spies };
}

describe('authorize on every route', () => {
  it.each(EVERY_ROUTE)(
    '%s answers 401 unauthorized and touches nothing when authorize returns null',
    async (_r, send) => {
      const { as, keyward, key, before, spies } = await refusedSetup(() => null);
      const res = await send(as(null), key.id);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      expect((await keyward.listKeys('org_a')).keys).toEqual([before]);
    },
  );

  it.each(EVERY_ROUTE)(
    "%s answers 403 forbidden and touches nothing when authorize returns 'forbidden'",
    async (_r, send) => {
      const { as, keyward, key, before, spies } = await refusedSetup(() => 'forbidden');
      const res = await send(as('org_a'), key.id);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      expect((await keyward.listKeys('org_a')).keys).toEqual([before]);
    },
  );
});

describe('the answers of authorize', () => {
  it('gives access to the organization authorize names, and only to it', async () => {
    const authorize = vi.fn<Authorize>(() => ({ organizationId: 'org_b' }));
    const { as, createKey } = setup({ authorize });
    const mine = await createKey('org_b');
    await createKey('org_a');
    const res = await as('org_a').get();
    expect(res.status).toBe(200);
    expect(res.body.data.map((k: { id: string }) => k.id)).toEqual([mine.key.id]);
    expect(authorize).toHaveBeenCalledTimes(1);
    expect(authorize.mock.calls[0]?.[0].get('x-org')).toBe('org_a');
  });

  it('accepts an async authorize', async () => {
    const { api } = setup({ authorize: async () => ({ organizationId: 'org_a' }) });
    expect((await api.get()).status).toBe(200);
  });

  it("answers 401 when authorize returns 'unauthorized'", async () => {
    const { api } = setup({ authorize: () => 'unauthorized' });
    const res = await api.get();
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it.each([
    ['undefined', undefined],
    ['an empty object', {}],
    ['a number as organizationId', { organizationId: 42 }],
    ['an empty organizationId', { organizationId: '' }],
    ['an organizationId over 200 characters', { organizationId: 'o'.repeat(201) }],
    ['a bare string', 'org_a'],
    ['true', true],
    ['an array', [{ organizationId: 'org_a' }]],
  ])('fails closed with 401 when authorize returns %s', async (_label, answer) => {
    const { api, keyward, createKey } = setup({ authorize: () => answer as never });
    await createKey('org_a');
    const spy = vi.spyOn(keyward, 'listKeys');
    const res = await api.get();
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect(spy).not.toHaveBeenCalled();
  });

  it('answers 403 with the message of a thrown KeywardError forbidden', async () => {
    const { api } = setup({
      authorize: () => {
        throw new KeywardError('forbidden', { message: 'Only admins may manage API keys.' });
      },
    });
    const res = await api.get();
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'forbidden', message: 'Only admins may manage API keys.' } });
  });

  it('answers 401 for a rejected promise of KeywardError unauthorized', async () => {
    const { api } = setup({ authorize: () => Promise.reject(new KeywardError('unauthorized')) });
    const res = await api.post('', { name: 'A', type: 'secret' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
  });

  it('answers 500 internal_error without internals, and no access, when authorize throws a bug', async () => {
    const { api, keyward } = setup({
      authorize: () => {
        throw new Error('session store password is hunter2');
      },
    });
    const spy = vi.spyOn(keyward, 'createKey');
    const res = await api.post('', { name: 'A', type: 'secret' });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong on our side.' },
    });
    expect(res.text).not.toContain('hunter2');
    expect(res.text).not.toContain('at ');
    expect(spy).not.toHaveBeenCalled();
  });

  it('refuses before reading the body: a malformed body of a signed-out caller answers 401', async () => {
    const { as } = setup();
    const res = await as(null).post('').set('Content-Type', 'application/json').send('{"name":');
    expect(res.status).toBe(401);
  });

  it('does not call authorize for the OpenAPI document', async () => {
    const authorize = vi.fn<Authorize>(() => null);
    const { as } = setup({ authorize });
    const res = await as(null).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(authorize).not.toHaveBeenCalled();
  });
});
