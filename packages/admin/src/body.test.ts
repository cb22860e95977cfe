import express from 'express';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from './body.js';
import { setup } from './test-app.js';

/** A valid create body padded with spaces to exactly `bytes` bytes. */
function paddedBody(bytes: number): string {
  const json = JSON.stringify({ name: 'Padded', type: 'secret' });
  return json.slice(0, -1) + ' '.repeat(bytes - json.length) + json.slice(-1);
}

describe('request bodies', () => {
  it('accepts a body of exactly 16 kB', async () => {
    const { api } = setup();
    const res = await api.post('').set('Content-Type', 'application/json').send(paddedBody(MAX_BODY_BYTES));
    expect(res.status).toBe(201);
  });

  it.each([
    ['POST /', (api: ReturnType<typeof setup>['api']) => api.post('')],
    ['PATCH /:id', (api: ReturnType<typeof setup>['api']) => api.patch('/key_0123456789ABCDEFGHIJ')],
    ['POST /:id/roll', (api: ReturnType<typeof setup>['api']) => api.post('/key_0123456789ABCDEFGHIJ/roll')],
  ])('%s answers 413 payload_too_large for a body over 16 kB', async (_route, send) => {
    const { api, keyward } = setup();
    const res = await send(api)
      .set('Content-Type', 'application/json')
      .send(paddedBody(MAX_BODY_BYTES + 1));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  /** A setup that records the framing headers of the last request the app received. */
  function recordingSetup() {
    const seen: { transferEncoding?: string; contentLength?: string } = {};
    const context = setup({
      before: (app) =>
        app.use((req, _res, next) => {
          seen.transferEncoding = req.headers['transfer-encoding'];
          seen.contentLength = req.headers['content-length'];
          next();
        }),
    });
    return { ...context, seen };
  }

  it('answers 413 for a chunked body that grows over 16 kB', async () => {
    const { api, keyward, seen } = recordingSetup();
    const req = api.post('').set('Content-Type', 'application/json');
    const body = paddedBody(MAX_BODY_BYTES * 2);
    req.write(body.slice(0, MAX_BODY_BYTES));
    req.write(body.slice(MAX_BODY_BYTES));
    const res = await req;
    expect(seen).toEqual({ transferEncoding: 'chunked', contentLength: undefined });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  it('reads a small chunked body', async () => {
    const { api, seen } = recordingSetup();
    const req = api.post('').set('Content-Type', 'application/json');
    req.write('{"name":"Chunked",');
    req.write('"type":"public"}');
    const res = await req;
    expect(seen.transferEncoding).toBe('chunked');
    expect(res.status).toBe(201);
    expect(res.body.data.name).toBe('Chunked');
  });

  it.each([
    ['text/plain', '{"name":"A","type":"secret"}'],
    ['application/x-www-form-urlencoded', 'name=A&type=secret'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n--x--',
    ],
    ['application/vnd.api+json', '{"name":"A","type":"secret"}'],
  ])('answers 415 unsupported_media_type for a %s body', async (type, body) => {
    const { api, keyward } = setup();
    const res = await api.post('').set('Content-Type', type).send(body);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: { code: 'unsupported_media_type', message: expect.any(String) } });
    expect((await keyward.listKeys('org_a')).keys).toEqual([]);
  });

  it('answers 415 for a body without a content type', async () => {
    const { app } = setup();
    const { default: request } = await import('supertest');
    const req = request(app).patch('/api/keys/key_0123456789ABCDEFGHIJ').set('x-org', 'org_a');
    req.write('{"name":"A"}');
    const res = await req;
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers 415 for JSON in a charset that is not a Unicode encoding', async () => {
    const { api } = setup();
    const res = await api
      .post('')
      .set('Content-Type', 'application/json; charset=iso-8859-1')
      .send('{"name":"A","type":"secret"}');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('answers 415 for an unknown Content-Encoding', async () => {
    const { api } = setup();
    const res = await api
      .post('')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'x-unknown')
      .send('{"name":"A","type":"secret"}');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('accepts JSON with an explicit UTF-8 charset', async () => {
    const { api } = setup();
    const res = await api
      .post('')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send('{"name":"Résumé ✓","type":"secret"}');
    expect(res.status).toBe(201);
    expect(res.body.data.name).toBe('Résumé ✓');
  });

  it.each([
    ['POST /', '', '{"name": "A", "type": '],
    ['PATCH /:id', '/key_0123456789ABCDEFGHIJ', "{'name': 'A'}"],
    ['POST /:id/roll', '/key_0123456789ABCDEFGHIJ/roll', '{"gracePeriodSeconds": 1,}'],
  ])('%s answers 400 validation_error for malformed JSON', async (route, path, body) => {
    const { api } = setup();
    const send = route.startsWith('PATCH') ? api.patch(path) : api.post(path);
    const res = await send.set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: 'validation_error',
        message: expect.any(String),
        details: [{ path: '', message: 'Must be valid JSON.' }],
      },
    });
    expect(res.text).not.toContain('Unexpected');
  });

  it('refuses an empty JSON body with 400 (send {} for the defaults), also sent in chunks', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const res = await api.post(`/${key.id}/roll`).set('Content-Type', 'application/json').send('');
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: '', message: 'Send a JSON body ({} for the defaults).' },
    ]);
    const chunked = api.patch(`/${key.id}`).set('Transfer-Encoding', 'chunked');
    chunked.write('');
    expect((await chunked).status).toBe(400);
  });

  it('ignores a body sent with GET and DELETE', async () => {
    const { api, createKey } = setup();
    const { key } = await createKey();
    const got = await api.get(`/${key.id}`).set('Content-Type', 'text/plain').send('hello');
    expect(got.status).toBe(200);
    const deleted = await api.delete(`/${key.id}`).set('Content-Type', 'text/plain').send('hello');
    expect(deleted.status).toBe(204);
  });

  describe('when the host app parsed the body already', () => {
    const hostParser = (app: express.Express) => app.use(express.json({ limit: '1mb' }));

    it('uses the parsed body', async () => {
      const { api } = setup({ before: hostParser });
      const res = await api.post('', { name: 'Parsed by host', type: 'public' });
      expect(res.status).toBe(201);
      expect(res.body.data.name).toBe('Parsed by host');
    });

    it('still validates the parsed body', async () => {
      const { api } = setup({ before: hostParser });
      const res = await api.post('', { name: 'A', type: 'secret', admin: true });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'admin', message: 'Unknown field.' }]);
    });

    it('still refuses a body announced as over 16 kB', async () => {
      const { api } = setup({ before: hostParser });
      const res = await api
        .post('')
        .set('Content-Type', 'application/json')
        .send(paddedBody(MAX_BODY_BYTES + 1));
      expect(res.status).toBe(413);
    });

    it('still refuses a body that is not JSON', async () => {
      const { api } = setup({ before: (app) => app.use(express.urlencoded({ extended: false })) });
      const res = await api
        .post('')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('name=A&type=secret');
      expect(res.status).toBe(415);
    });
  });
});
