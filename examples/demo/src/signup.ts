import { randomBytes } from 'node:crypto';
import { createRequestGuard, serializeKey } from '@keyward/admin';
import { type Keyward, KeywardError, type ValidationDetail } from '@keyward/core';
import express, { type RequestHandler } from 'express';
import { invalidBody } from './errors.js';
import { startSession } from './sessions.js';
import type { Snippets } from './snippets.js';

const MAX_NAME_LENGTH = 100;
// Control characters and the Unicode line and paragraph separators have no place in a name.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029]/u;

/**
 * Validates `POST /signup`'s body: exactly `{ "organization": "<1 to 100 characters>" }`.
 *
 * @example
 * parseSignup({ organization: ' Acme ' }); // 'Acme'
 */
export function parseSignup(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidBody('Must be a JSON object.');
  const details: ValidationDetail[] = [];
  for (const field of Object.keys(body)) {
    if (field !== 'organization') details.push({ path: field, message: 'Unknown field.' });
  }
  const { organization } = body as { organization?: unknown };
  const name = typeof organization === 'string' ? organization.trim() : '';
  if (organization === undefined) details.push({ path: 'organization', message: 'Required.' });
  else if (typeof organization !== 'string')
    details.push({ path: 'organization', message: 'Must be a string.' });
  else if (name.length === 0) details.push({ path: 'organization', message: 'Must not be empty.' });
  else if (name.length > MAX_NAME_LENGTH) {
    details.push({ path: 'organization', message: `Must be at most ${MAX_NAME_LENGTH} characters.` });
  } else if (UNPRINTABLE.test(name)) {
    details.push({ path: 'organization', message: 'Must not contain control characters.' });
  }
  if (details.length > 0) throw new KeywardError('validation_error', { details });
  return name;
}

/**
 * `POST /signup {"organization": "Acme"}`: creates an organization with its `Default API Key`, starts a
 * new session (a new id: no session fixation) and answers 201 `{ organization: { id, name }, defaultKey:
 * Key }` (the key with its token). Mount it after the session middleware and the sign-up rate limit.
 * Like the admin API, it refuses cross-origin requests (403) and anything but JSON (415) — so a page of
 * another origin cannot sign a visitor into an organization of its choosing.
 *
 * @example
 * app.post('/signup', sessions.middleware, signupLimit, ...signupHandlers({ keyward, snippets }));
 */
export function signupHandlers(context: { keyward: Keyward; snippets: Snippets }): RequestHandler[] {
  const { keyward, snippets } = context;
  const json = express.json({ limit: '2kb', strict: true, type: 'application/json', inflate: false });
  const guard = createRequestGuard([]);

  const requireJson: RequestHandler = function keywardDemoSignupMediaType(req, _res, next) {
    try {
      guard(req, { readsBody: true });
      next();
    } catch (error) {
      next(
        error instanceof KeywardError && error.code === 'unsupported_media_type'
          ? new KeywardError('unsupported_media_type', { message: 'Send JSON: {"organization": "Acme"}.' })
          : error,
      );
    }
  };

  const signup: RequestHandler = function keywardDemoSignup(req, res, next) {
    const run = async () => {
      const name = parseSignup(req.body);
      const organization = { id: `org_${randomBytes(12).toString('base64url')}`, name };
      const { key } = await keyward.provisionOrganization(organization.id);
      if (!key) throw new Error('The new organization has no default key');
      snippets.add(organization.id, {
        title: 'Hello from Keyward',
        content: 'This snippet was read with an API key.',
      });
      await startSession(req, { organizationId: organization.id, organizationName: name });
      res
        .status(201)
        .set('Cache-Control', 'no-store')
        .json({ organization, defaultKey: serializeKey(key) });
    };
    run().catch(next);
  };

  return [requireJson, json, signup];
}
