import type { Keyward } from '@keyward/core';
import { KeywardError, type ValidationDetail } from '@keyward/core';
import { apiKeyAuth, apiKeyCors } from '@keyward/express';
import express, { type Router } from 'express';
import { invalidBody } from './errors.js';
import type { Snippets } from './snippets.js';
import { createV1OpenApiDocument } from './v1-openapi.js';

/**
 * The demo's public API, authenticated with API keys (docs/reference.md §4):
 * `GET /whoami` (any key), `GET /snippets` (`snippets:read`), `POST /snippets` (a secret key with
 * `snippets:write`), and `GET /openapi.json`, its OpenAPI document (no key). It answers CORS requests from any origin, except that a key bound to `allowedOrigins`
 * gets CORS headers only for those origins (`apiKeyCors`, narrowed by `apiKeyAuth` from its own verify).
 *
 * @example
 * app.use('/v1', createV1Router({ keyward, snippets }));
 */
export function createV1Router({ keyward, snippets }: { keyward: Keyward; snippets: Snippets }): Router {
  const router = express.Router();
  const json = express.json({ limit: '4kb', strict: true, type: 'application/json' });

  // Any origin may call the API from a browser (public keys are meant to be published), with the key in a
  // header and never with credentials: no cookie travels, so no session can be used from here. A key bound
  // to origins is answered CORS only for them, by apiKeyAuth once it has verified the key.
  router.use(apiKeyCors({ methods: ['GET', 'POST'] }));
  // The OpenAPI document of this API, built once; it needs no key.
  const openApiDocument = JSON.stringify(createV1OpenApiDocument());
  router.get('/openapi.json', function v1OpenApi(_req, res) {
    res.type('application/json').send(openApiDocument);
  });
  router.get('/whoami', apiKeyAuth(keyward), function whoami(req, res) {
    // Written with Node's own calls: `res.json` would also hash the body for an ETag, which a `no-store`
    // answer never uses (and which cost this hot route a tenth of its throughput in `pnpm bench`).
    const body = JSON.stringify({ apiKey: req.apiKey });
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(body);
  });
  router.get(
    '/snippets',
    apiKeyAuth(keyward, { scopes: ['snippets:read'] }),
    function listSnippets(req, res) {
      res.set('Cache-Control', 'no-store').json({ data: snippets.list(organizationOf(req)) });
    },
  );
  router.post(
    '/snippets',
    // The key is checked before the body is read.
    apiKeyAuth(keyward, { type: 'secret', scopes: ['snippets:write'] }),
    function requireJson(req, _res, next) {
      next(req.is('application/json') ? undefined : new KeywardError('unsupported_media_type'));
    },
    json,
    function createSnippet(req, res) {
      const input = parseSnippet(req.body);
      res.status(201).json({ data: snippets.add(organizationOf(req), input) });
    },
  );
  return router;
}

function organizationOf(req: express.Request): string {
  // apiKeyAuth ran before: req.apiKey is set.
  return (req.apiKey as { organizationId: string }).organizationId;
}

/**
 * Validates `POST /v1/snippets`'s body: `{ title: 1–200 characters, content?: at most 2000 }`.
 *
 * @example
 * parseSnippet({ title: 'Hi' }); // { title: 'Hi', content: '' }
 */
export function parseSnippet(body: unknown): { title: string; content: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidBody('Must be a JSON object.');
  const details: ValidationDetail[] = [];
  for (const field of Object.keys(body)) {
    if (field !== 'title' && field !== 'content') details.push({ path: field, message: 'Unknown field.' });
  }
  const { title, content = '' } = body as { title?: unknown; content?: unknown };
  const trimmed = typeof title === 'string' ? title.trim() : '';
  if (typeof title !== 'string')
    details.push({ path: 'title', message: title === undefined ? 'Required.' : 'Must be a string.' });
  else if (trimmed.length === 0 || trimmed.length > 200) {
    details.push({ path: 'title', message: 'Must be 1 to 200 characters.' });
  }
  if (typeof content !== 'string') details.push({ path: 'content', message: 'Must be a string.' });
  else if (content.length > 2000)
    details.push({ path: 'content', message: 'Must be at most 2000 characters.' });
  if (details.length > 0) throw new KeywardError('validation_error', { details });
  return { title: trimmed, content: content as string };
}
