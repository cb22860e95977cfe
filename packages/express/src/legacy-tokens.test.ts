import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { apiKeyAuth } from './api-key-auth.js';
import { appWith, countingHandler, EXPRESS_VERSIONS, keywardFixture, ORG } from './test-fixtures.js';

const legacyToken = () => `sk_live_${randomBytes(16).toString('hex')}`;

describe.each(EXPRESS_VERSIONS)('imported tokens over HTTP (%s)', (_label, express) => {
  it('admits an imported token only when legacyTokens is set, and answers 401 invalid_api_key otherwise', async () => {
    const token = legacyToken();
    const on = await keywardFixture({ legacyTokens: { pattern: /^sk_live_[0-9a-f]{32}$/ } });
    const imported = await on.keyward.importKey(ORG, { token, name: 'Old', type: 'secret' });
    const handler = countingHandler();
    const app = appWith(express, [apiKeyAuth(on.keyward)], handler);
    const ok = await request(app).get('/r').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.body.apiKey).toMatchObject({ id: imported.id, organizationId: ORG, type: 'secret' });
    const unknown = await request(app).get('/r').set('X-API-Key', legacyToken());
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('invalid_api_key');
    expect(handler.runs).toBe(1);

    const off = await keywardFixture();
    await off.keyward.importKey(ORG, { token, name: 'Old', type: 'secret' });
    const lookups = off.store.lookups;
    const refused = await request(appWith(express, [apiKeyAuth(off.keyward)], countingHandler()))
      .get('/r')
      .set('Authorization', `Bearer ${token}`);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('invalid_api_key');
    expect(off.store.lookups, 'no store read for a token outside the format').toBe(lookups);
    expect(JSON.stringify(refused.body)).not.toContain(token);
  });
});
