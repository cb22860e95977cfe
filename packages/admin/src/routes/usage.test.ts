import { keyUsageSchema, organizationUsageSchema } from '@keyward/core/schemas';
import { describe, expect, it } from 'vitest';
import { setup, UNKNOWN_ID } from '../test-app.js';

describe('GET /:id/usage and GET /usage (docs/reference.md §9)', () => {
  it("answers a key's buckets, oldest first, empty ones included, refusals by code", async () => {
    const { api, keyward, clock, createKey } = setup();
    const { key, token } = await createKey('org_a', { name: 'Web', type: 'public' });
    await keyward.verify(token);
    await keyward.verify(token);
    await keyward.verify(token, { type: 'secret' });
    clock.advance(2 * 3_600_000);
    await keyward.verify(token);
    await keyward.flushUsage();
    const res = await api.get(
      `/${key.id}/usage?granularity=hour&from=2030-01-01T00:00:00Z&to=2030-01-01T04:00:00Z`,
    );
    expect(res.status).toBe(200);
    expect(keyUsageSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toEqual({
      granularity: 'hour',
      data: [
        { at: '2030-01-01T00:00:00.000Z', admitted: 2, refused: { secret_key_required: 1 } },
        { at: '2030-01-01T01:00:00.000Z', admitted: 0, refused: {} },
        { at: '2030-01-01T02:00:00.000Z', admitted: 1, refused: {} },
        { at: '2030-01-01T03:00:00.000Z', admitted: 0, refused: {} },
      ],
    });
    const minutes = await api.get(`/${key.id}/usage?granularity=minute&from=2030-01-01T01:59:00Z`);
    expect(minutes.body.data.map((d: { admitted: number }) => d.admitted)).toEqual([0, 1]);
  });

  it("answers 404 for another organization's key, and an unknown id", async () => {
    const { as, createKey } = setup();
    const { key } = await createKey('org_a');
    expect((await as('org_b').get(`/${key.id}/usage`)).status).toBe(404);
    expect((await as('org_a').get(`/${UNKNOWN_ID}/usage`)).status).toBe(404);
  });

  it('answers 400 for a bad query or too many buckets', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey('org_a');
    for (const query of [
      'granularity=week',
      'from=yesterday',
      'from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z',
      'granularity=minute&from=2029-12-01T00:00:00Z',
      'unknown=1',
    ]) {
      const res = await api.get(`/${key.id}/usage?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });

  it("sums the organization's keys and names its most used ones, never another organization's", async () => {
    const { api, keyward, createKey } = setup();
    const busy = await createKey('org_a', { name: 'Busy', type: 'public' });
    const quiet = await createKey('org_a', { name: 'Quiet', type: 'public' });
    const other = await createKey('org_b', { name: 'Theirs', type: 'public' });
    for (let i = 0; i < 3; i++) await keyward.verify(busy.token);
    await keyward.verify(quiet.token);
    await keyward.verify(other.token);
    await keyward.flushUsage();
    const res = await api.get('/usage?granularity=day&from=2030-01-01T00:00:00Z&to=2030-01-02T00:00:00Z');
    expect(res.status).toBe(200);
    expect(organizationUsageSchema.parse(res.body)).toEqual(res.body);
    expect(res.body).toEqual({
      granularity: 'day',
      data: [{ at: '2030-01-01T00:00:00.000Z', admitted: 4, refused: {} }],
      topKeys: [
        { id: busy.key.id, admitted: 3, refused: {} },
        { id: quiet.key.id, admitted: 1, refused: {} },
      ],
    });
  });
});
