import { describe, expect, it } from 'vitest';
import { setup } from '../test-app.js';

describe('Idempotency-Key on POST / and POST /:id/roll (docs/reference.md §11)', () => {
  it('the same create sent 20 times concurrently with one key makes one key; all get its token', async () => {
    const { api, keyward } = setup();
    const body = { name: 'CI', type: 'secret' };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.post('', body).set('Idempotency-Key', 'create-1')),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(201));
    const first = answers[0]?.body;
    for (const answer of answers) expect(answer.body).toEqual(first);
    expect(first.token).toMatch(/^kw_sk_/);
    expect((await keyward.listKeys('org_a')).keys.map((k) => k.id)).toEqual([first.data.id]);
    expect((await keyward.listEvents('org_a', { type: 'key.created' })).events).toHaveLength(1);
  });

  it('the same key with another body is 422 idempotency_key_reused and makes nothing', async () => {
    const { api, keyward } = setup();
    expect((await api.post('', { name: 'CI', type: 'secret' }).set('Idempotency-Key', 'k')).status).toBe(201);
    const reused = await api.post('', { name: 'Other', type: 'secret' }).set('Idempotency-Key', 'k');
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    expect((await keyward.listKeys('org_a')).keys).toHaveLength(1);
  });

  it('keys are per organization, and requests without one are not deduplicated', async () => {
    const { api, as, keyward } = setup();
    const body = { name: 'CI', type: 'secret' };
    await api.post('', body).set('Idempotency-Key', 'k');
    expect((await as('org_b').post('', body).set('Idempotency-Key', 'k')).status).toBe(201);
    await api.post('', body);
    expect((await keyward.listKeys('org_a')).keys).toHaveLength(2);
    expect((await keyward.listKeys('org_b')).keys).toHaveLength(1);
  });

  it('a retried roll answers the same new key and token and rolls once; a refused request can be retried', async () => {
    const { api, keyward, createKey } = setup();
    const { key } = await createKey();
    const roll = () => api.post(`/${key.id}/roll`, { gracePeriodSeconds: 60 }).set('Idempotency-Key', 'r');
    const first = await roll();
    expect(first.status).toBe(201);
    const again = await roll();
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect((await keyward.listEvents('org_a', { type: 'key.rolled' })).events).toHaveLength(1);

    // A refused request is not kept: the key is free again, for the fixed request.
    const bad = await api.post('', { name: '', type: 'secret' }).set('Idempotency-Key', 'fix');
    expect(bad.status).toBe(400);
    const fixed = await api.post('', { name: 'Fixed', type: 'secret' }).set('Idempotency-Key', 'fix');
    expect(fixed.status).toBe(201);
  });

  it('a malformed Idempotency-Key is 400', async () => {
    const { api } = setup();
    const res = await api.post('', { name: 'CI', type: 'secret' }).set('Idempotency-Key', 'x'.repeat(256));
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('Idempotency-Key');
  });
});
