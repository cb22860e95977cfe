import { createServer } from 'node:http';
import { KeywardError } from '@keyward/core';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { refusal, sendError } from './refusal.js';
import { EXPRESS_VERSIONS } from './test-fixtures.js';

// sendError writes with Node's own calls instead of Express's res.json: it must send what res.json sends.
const ANSWERS = [
  ['a 401 with its challenge', () => refusal('invalid_api_key', 'api')],
  ['a 403 with the required scopes', () => refusal('insufficient_scope', 'api', ['snippets:write'])],
  [
    'a 429 with Retry-After',
    () => refusal('too_many_invalid_keys', 'api', undefined, { 'Retry-After': '7' }),
  ],
  ['a 503', () => new KeywardError('key_store_unavailable')],
  ['a 500 that hides its message', () => new KeywardError('internal_error', { message: 'db password is x' })],
  [
    'a message outside ASCII, with details',
    () =>
      new KeywardError('validation_error', {
        message: 'clé refusée ✗',
        details: [{ path: 'name', message: 'trop long' }],
      }),
  ],
] as const;

/** The headers that matter to a client: all but those that differ from one response to the next. */
function comparable(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, etag: _etag, connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

describe.each(EXPRESS_VERSIONS)('sendError on %s', (_version, express) => {
  const app = express();
  app.all('/by-hand/:i', (req, res) => {
    const error = ANSWERS[Number(req.params.i)]?.[1]() as KeywardError;
    res.status(error.status).set(error.headers).json(error.toJSON());
  });
  app.all('/keyward/:i', (req, res) => {
    sendError(res, ANSWERS[Number(req.params.i)]?.[1]() as KeywardError);
  });

  it.each(ANSWERS.map(([name], i) => [name, i] as const))(
    'sends %s byte for byte as res.status().set().json() would (an ETag aside)',
    async (_name, i) => {
      for (const method of ['get', 'post', 'head'] as const) {
        const byHand = await request(app)[method](`/by-hand/${i}`);
        const mine = await request(app)[method](`/keyward/${i}`);
        expect(mine.status).toBe(byHand.status);
        expect(comparable(mine.headers)).toEqual(comparable(byHand.headers));
        expect(mine.text).toBe(byHand.text);
        if (method === 'head') expect(mine.text ?? '').toBe('');
      }
    },
  );
});

describe('sendError on a plain http.ServerResponse', () => {
  it('answers without Express', async () => {
    const server = createServer((_req, res) => sendError(res, refusal('invalid_api_key', 'api')));
    const res = await request(server).get('/');
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token"');
    expect(res.body).toEqual({ error: { code: 'invalid_api_key', message: expect.any(String) } });
  });
});
