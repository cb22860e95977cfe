import type { Keyward } from '@keyward/core';
import { KeywardError, type ValidationDetail } from '@keyward/core';
import { apiKeyAuth } from '@keyward/express';
import cors, { type CorsOptions, type CorsOptionsDelegate } from 'cors';
import express, { type Router } from 'express';
import { invalidBody } from './errors.js';
import type { Snippets } from './snippets.js';

/**
 * The demo's public API, authenticated with API keys (contract §4):
 * `GET /whoami` (any key), `GET /snippets` (`snippets:read`), `POST /snippets` (a secret key with
 * `snippets:write`). It answers CORS requests from any origin, except that a key bound to `allowedOrigins`
 * gets CORS headers only for those origins.
 *
 * @example
 * app.use('/v1', createV1Router({ keyward, snippets }));
 */
export function createV1Router({ keyward, snippets }: { keyward: Keyward; snippets: Snippets }): Router {
  const router = express.Router();
  const json = express.json({ limit: '4kb', strict: true, type: 'application/json' });

  // Any origin may call the API from a browser (public keys are meant to be published), with the key in a
  // header and never with credentials: no cookie travels, so no session can be used from here.
  router.use(cors(corsForKey(keyward)));
  router.get('/whoami', apiKeyAuth(keyward), function whoami(req, res) {
    res.set('Cache-Control', 'no-store').json({ apiKey: req.apiKey });
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

const CORS: CorsOptions = {
  origin: '*',
  credentials: false,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization', 'X-API-Key', 'Content-Type'],
  exposedHeaders: ['Sunset', 'WWW-Authenticate', 'Retry-After', 'RateLimit', 'RateLimit-Policy'],
  maxAge: 600,
};
/** A key bound to origins, from one of them: that origin only (with `Vary: Origin`). */
const ECHO_ORIGIN: CorsOptions = { ...CORS, origin: true };
/** A key bound to origins, from another one: no CORS headers, so the browser keeps the answer from the page. */
const NO_CORS: CorsOptions = { ...CORS, origin: false };
/** Verify options of a look that is not the request's verification: usage counts nothing for it. */
const LOOK_ONLY = Object.freeze({ count: 'none' as const });

/**
 * The cors package's per-request options: `*` for every request, except one whose key (in `Authorization:
 * Bearer` or `X-API-Key`) is bound to `allowedOrigins`; that one is answered CORS only for its origins
 * (`apiKeyAuth` refuses the others with 403 `origin_not_allowed` too). Preflights carry no key: any origin.
 *
 * @example
 * router.use(cors(corsForKey(keyward)));
 */
export function corsForKey(keyward: Keyward): CorsOptionsDelegate<express.Request> {
  return function corsOptions(req, callback) {
    const token = /^bearer[ \t]+(\S+)/i.exec(req.get('authorization') ?? '')?.[1] ?? req.get('x-api-key');
    if (!token || req.method === 'OPTIONS') return callback(null, CORS);
    const decide = (result: Awaited<ReturnType<Keyward['verify']>>) => {
      const policy = result.valid ? result.policy : null;
      if (!policy || policy.allowedOrigins.length === 0) return callback(null, CORS);
      const origin = req.get('origin');
      callback(null, origin !== undefined && policy.allowsOrigin(origin) ? ECHO_ORIGIN : NO_CORS);
    };
    // A look at the key's policy, not a verification: apiKeyAuth counts the request (contract §9).
    const cached = keyward.verifyCached(token, undefined, LOOK_ONLY);
    if (cached !== undefined) return decide(cached);
    keyward.verify(token, undefined, LOOK_ONLY).then(decide, (error: unknown) => callback(error as Error));
  };
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
