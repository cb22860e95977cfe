import { createRequestGuard } from '@keyward/admin';
import { KeywardError } from '@keyward/core';
import type { RequestHandler } from 'express';
import { endSession, SESSION_COOKIE } from './sessions.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * `POST /signout`: ends the session (removed from the store) and clears its cookie. Sent by a script as
 * JSON it answers 204; sent by the sign-out form of the sign-up page it redirects to `/` (303). Other
 * bodies get 415; a request from another origin gets 403 before anything happens, as on the admin API.
 * Signing out without a session is fine (204 / 303). Mount it after the session middleware.
 *
 * @example
 * app.post('/signout', sessions.middleware, signoutHandler());
 */
export function signoutHandler(): RequestHandler {
  const guard = createRequestGuard([]);
  return function keywardDemoSignout(req, res, next) {
    const run = async () => {
      guard(req, { readsBody: false });
      const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      const fromForm = type === FORM;
      if (type !== undefined && type !== 'application/json' && !fromForm) {
        throw new KeywardError('unsupported_media_type', {
          message: 'Send an empty JSON body ({}) or the sign-out form.',
        });
      }
      await endSession(req);
      res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: req.secure });
      res.set('Cache-Control', 'no-store');
      if (fromForm) res.redirect(303, '/');
      else res.status(204).end();
    };
    run().catch(next);
  };
}
