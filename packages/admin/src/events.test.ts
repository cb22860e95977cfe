import { MemoryKeyStore } from '@keyward/core';
import { TEST_PEPPER } from '@keyward/core/testing';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { Authorize } from './options.js';
import { ISO, setup } from './test-app.js';

/** `x-org` names the organization, `x-user` the user acting (no `x-user`: the old answer shape). */
const userAuthorize: Authorize = (req) => {
  const org = req.get('x-org');
  if (!org) return null;
  const user = req.get('x-user');
  return user ? { organizationId: org, actor: { type: 'user', id: user } } : { organizationId: org };
};

function eventsSetup() {
  const context = setup({ authorize: userAuthorize });
  const as = (org: string, user = 'user_carol') => {
    const client = context.as(org);
    const sign = <T extends { set(name: string, value: string): T }>(test: T) =>
      test.set('x-user', user).set('User-Agent', 'admin-events-test/1');
    return {
      get: (path = '') => sign(client.get(path)),
      post: (path = '', body?: unknown) => sign(client.post(path, body)),
      patch: (path: string, body?: unknown) => sign(client.patch(path, body)),
      delete: (path: string) => sign(client.delete(path)),
    };
  };
  return { ...context, carol: as('org_a'), as };
}

describe('GET <admin>/events and the events of admin mutations', () => {
  it('records exactly one event per mutation through the API, naming the actor authorize returned', async () => {
    const { carol, clock } = eventsSetup();
    const created = await carol.post('', { name: 'Deploy', type: 'secret' });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const steps: Array<[() => Promise<{ status: number }>, number]> = [
      [() => carol.patch(`/${id}`, { name: 'Deploy 2', expiresAt: '2031-01-01T00:00:00Z' }), 200],
      [() => carol.patch(`/${id}`, { disabled: true }), 200],
      [() => carol.patch(`/${id}`, { disabled: false, name: 'Deploy 3' }), 200],
      [() => carol.patch(`/${id}`, { name: 'Deploy 3' }), 200], // no change: no event
      [() => carol.post(`/${id}/roll`, {}), 201],
    ];
    for (const [step, status] of steps) {
      clock.advance(1000);
      expect((await step()).status).toBe(status);
    }
    const rolledTo = (await carol.get(`/${id}`)).body.data.replacedBy as string;
    clock.advance(1000);
    expect((await carol.delete(`/${rolledTo}`)).status).toBe(204);
    const { body } = await carol.get('/events');
    expect(body.nextCursor).toBeNull();
    type Listed = { type: string; keyId: string; keyName: string; changes?: string[] };
    // A roll's two events share its instant: the old key's key.rolled is listed above the new key's key.created.
    const listed = body.data as Listed[];
    expect(listed.map((e) => [e.type, e.keyId, e.keyName, e.changes])).toEqual([
      ['key.deleted', rolledTo, 'Deploy 3', undefined],
      ['key.rolled', id, 'Deploy 3', undefined],
      ['key.created', rolledTo, 'Deploy 3', undefined],
      ['key.updated', id, 'Deploy 3', ['name', 'disabled']],
      ['key.disabled', id, 'Deploy 2', undefined],
      ['key.updated', id, 'Deploy 2', ['name', 'expiresAt']],
      ['key.created', id, 'Deploy', undefined],
    ]);
    for (const event of body.data) {
      expect(Object.keys(event).sort()).toEqual(
        [
          'actor',
          'at',
          'id',
          'ip',
          'keyId',
          'keyName',
          'organizationId',
          'type',
          'userAgent',
          ...(event.changes ? ['changes'] : []),
          ...(event.type === 'key.rolled' ? ['replacedBy'] : []),
          ...(event.keyId === rolledTo && event.type === 'key.created' ? ['rolledFrom'] : []),
        ].sort(),
      );
      expect(event).toMatchObject({
        organizationId: 'org_a',
        actor: { type: 'user', id: 'user_carol' },
        ip: expect.stringMatching(/127\.0\.0\.1|::1/),
        userAgent: 'admin-events-test/1',
        at: expect.stringMatching(ISO),
      });
    }
  });

  it('GET /events?keyId=&chain=true follows a key through its rolls, both ways; chain without keyId is 400', async () => {
    const { carol, clock } = eventsSetup();
    const first = (await carol.post('', { name: 'Chain', type: 'secret' })).body.data.id as string;
    clock.advance(1000);
    const roll = (from: string) => carol.post(`/${from}/roll`, { gracePeriodSeconds: 0 });
    const second = (await roll(first)).body.data.id as string;
    clock.advance(1000);
    const third = (await roll(second)).body.data.id as string;
    clock.advance(1000);
    await carol.post('', { name: 'Other', type: 'secret' });
    for (const keyId of [first, second, third]) {
      const res = await carol.get(`/events?keyId=${keyId}&chain=true`);
      expect(res.status).toBe(200);
      const seen = (
        res.body.data as Array<{ type: string; keyId: string; rolledFrom?: string; replacedBy?: string }>
      )
        .map((e) => `${e.type} ${e.keyId} ${e.rolledFrom ?? ''}${e.replacedBy ?? ''}`)
        .sort();
      expect(seen).toEqual(
        [
          `key.created ${first} `,
          `key.rolled ${first} ${second}`,
          `key.created ${second} ${first}`,
          `key.rolled ${second} ${third}`,
          `key.created ${third} ${second}`,
        ].sort(),
      );
    }
    const page = await carol.get(`/events?keyId=${third}&chain=true&limit=2`);
    expect(page.body.data).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const bad = await carol.get('/events?chain=true');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'validation_error', details: [{ path: 'chain' }] });
    expect((await carol.get(`/events?keyId=${first}&chain=maybe`)).status).toBe(400);
  });

  it('records req.ip only when it is an IP address, whatever X-Forwarded-For says behind trust proxy', async () => {
    const context = setup({ authorize: userAuthorize, before: (app) => app.set('trust proxy', true) });
    const sent = ['<img src=x onerror=alert(1)>', 'not-an-address', '203.0.113.9', '2001:db8::7'];
    for (const [i, forwardedFor] of sent.entries()) {
      const res = await request(context.app)
        .post('/api/keys')
        .set({ 'x-org': 'org_a', 'x-user': 'user_carol', 'X-Forwarded-For': forwardedFor })
        .send({ name: `Key ${i}`, type: 'secret' });
      expect(res.status).toBe(201);
    }
    const { body } = await context.as('org_a').get('/events');
    const ipOf = Object.fromEntries(
      body.data.map((event: { keyName: string; ip?: string }) => [event.keyName, event.ip ?? null]),
    );
    expect(ipOf).toEqual({ 'Key 0': null, 'Key 1': null, 'Key 2': '203.0.113.9', 'Key 3': '2001:db8::7' });
    expect(JSON.stringify(body)).not.toContain('onerror');
  });

  it('names an unnamed user when authorize answers the old shape, and refuses a malformed actor with 401', async () => {
    const { as, app } = eventsSetup();
    const plain = as('org_a');
    // No x-user header: authorize answers { organizationId } only.
    const res = await request(app)
      .post('/api/keys')
      .set('x-org', 'org_a')
      .send({ name: 'Old shape', type: 'secret' });
    expect(res.status).toBe(201);
    const { body } = await plain.get('/events');
    expect(body.data[0].actor).toEqual({ type: 'user', id: 'unknown' });

    const bad = setup({
      authorize: () => ({ organizationId: 'org_a', actor: { type: 'root', id: 'x' } }) as never,
    });
    const refused = await bad.api.post('', { name: 'Nope', type: 'secret' });
    expect(refused.status).toBe(401);
    expect((await bad.keyward.listKeys('org_a')).keys).toEqual([]);
  });

  it("never lists another organization's events, not even by key id", async () => {
    const { carol, as } = eventsSetup();
    const mine = await carol.post('', { name: 'Mine', type: 'secret' });
    const bob = as('org_b', 'user_bob');
    await bob.post('', { name: 'Theirs', type: 'secret' });
    const theirs = await bob.get('/events');
    expect(theirs.body.data.map((e: { keyName: string }) => e.keyName)).toEqual(['Theirs']);
    const byId = await bob.get(`/events?keyId=${mine.body.data.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({ data: [], nextCursor: null });
  });

  it('pages newest first and stays stable while new events arrive', async () => {
    const { carol, clock } = eventsSetup();
    for (let i = 0; i < 5; i++) {
      await carol.post('', { name: `K${i}`, type: 'secret' });
      if (i % 2 === 0) clock.advance(1000); // some events share a millisecond: ties broken by id
    }
    const everything = (await carol.get('/events')).body.data.map((e: { id: string }) => e.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await carol.get(`/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.nextCursor;
      // A new event arrives between pages: it is newer than the cursor, so it neither repeats nor shifts.
      clock.advance(1000);
      await carol.post('', { name: 'Arrived', type: 'secret' });
    } while (cursor);
    expect(seen).toEqual(everything);
  });

  it('filters by key and type, and answers 400 for a bad query', async () => {
    const { carol, clock } = eventsSetup();
    const a = await carol.post('', { name: 'A', type: 'secret' });
    await carol.post('', { name: 'B', type: 'secret' });
    clock.advance(1000);
    await carol.patch(`/${a.body.data.id}`, { disabled: true });
    const byKey = await carol.get(`/events?keyId=${a.body.data.id}`);
    expect(byKey.body.data.map((e: { type: string }) => e.type)).toEqual(['key.disabled', 'key.created']);
    const byType = await carol.get('/events?type=key.disabled');
    expect(byType.body.data).toHaveLength(1);
    for (const query of [
      'limit=0',
      'limit=101',
      'cursor=forged',
      'type=key.exploded',
      'unknown=1',
      'keyId[]=x',
    ]) {
      const res = await carol.get(`/events?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });

  it('never shows a token, hash or pepper in an event (canary)', async () => {
    const store = new MemoryKeyStore();
    // The shared setup hashes with TEST_PEPPER: that pepper and every token and hash must stay out.
    const { api, keyward } = setup({ store, authorize: userAuthorize });
    const created = await api.post('', { name: 'Canary', type: 'secret' });
    const pub = await api.post('', { name: 'Pub', type: 'public' });
    const rolled = await api.post(`/${created.body.data.id}/roll`, {});
    await keyward.verify(created.body.token);
    await keyward.flushUsage();
    await api.delete(`/${rolled.body.data.id}`);
    const body = JSON.stringify((await api.get('/events')).body);
    const hashes = (await store.list('org_a')).map((k) => k.hash);
    const deleted = await store.findByHash(
      (await store.list('org_a')).find((k) => k.id === created.body.data.id)?.hash ?? '',
    );
    expect(deleted).not.toBeNull();
    for (const secret of [TEST_PEPPER, created.body.token, pub.body.token, rolled.body.token, ...hashes]) {
      expect(body).not.toContain(secret);
    }
    expect(body).toContain('key.used_after_roll');
  });
});
