import { generateKeyPairSync, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MemoryKeyStore } from '@keyward/core';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoApp } from './app.js';

// GitHub's secret-scanning key, played by a key pair made here and served on 127.0.0.1.
const KEY_ID = 'test-key-1';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
let keysUrl = '';
let closeKeys = () => {};

beforeAll(async () => {
  const keys = express();
  keys.get('/keys', (_req, res) => {
    res.json({
      public_keys: [
        { key_identifier: KEY_ID, key: publicKey.export({ type: 'spki', format: 'pem' }), is_current: true },
      ],
    });
  });
  const server = keys.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  keysUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  closeKeys = () => server.close();
});

afterAll(() => closeKeys());

function signed(body: string) {
  return {
    'Content-Type': 'application/json',
    'Github-Public-Key-Identifier': KEY_ID,
    'Github-Public-Key-Signature': sign('sha256', Buffer.from(body), {
      key: privateKey,
      dsaEncoding: 'der',
    }).toString('base64'),
  };
}

describe('POST /security/leaks/github', () => {
  it('revokes a reported secret key at once and answers GitHub feedback', async () => {
    const { app, keyward, close } = createDemoApp({
      store: new MemoryKeyStore(),
      leakReportKeysUrl: keysUrl,
    });
    const { token } = await keyward.createKey('org_demo', { name: 'Server', type: 'secret' });
    expect((await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    const body = JSON.stringify([
      { token, type: 'keyward_secret_key', url: 'https://github.com/o/r/blob/x/a.js', source: 'content' },
      { token: 'ghp_not_ours', type: 'github_token', url: 'https://github.com/o/r', source: 'content' },
    ]);

    const res = await request(app).post('/security/leaks/github').set(signed(body)).send(body);

    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      { token_raw: token, token_type: 'keyward_secret_key', label: 'true_positive' },
      { token_raw: 'ghp_not_ours', token_type: 'github_token', label: 'false_positive' },
    ]);
    const after = await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`);
    expect(after.status).toBe(401);
    close();
  });

  it('refuses a report whose signature does not verify with 401, and keeps the key', async () => {
    const { app, keyward, close } = createDemoApp({
      store: new MemoryKeyStore(),
      leakReportKeysUrl: keysUrl,
    });
    const { token } = await keyward.createKey('org_demo', { name: 'Server', type: 'secret' });
    const body = JSON.stringify([{ token, type: 'keyward_secret_key', url: '', source: 'content' }]);

    const res = await request(app).post('/security/leaks/github').set(signed('[]')).send(body);

    expect(res.status).toBe(401);
    expect((await request(app).get('/v1/whoami').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    close();
  });
});
