import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';

/** The session cookie's name. */
export const SESSION_COOKIE = 'kw_demo_session';
const MAX_AGE_SECONDS = 8 * 3600;
/** Oldest sessions are dropped beyond this many, so sign-up floods cannot fill the memory. */
const MAX_SESSIONS = 10_000;

/** Who a session belongs to. */
export interface Session {
  organizationId: string;
  organizationName: string;
}

/**
 * Cookie sessions kept in memory: an opaque random id (256 bits) in an `HttpOnly`, `SameSite=Lax` cookie.
 * The admin API relies on `SameSite` and JSON-only write bodies against CSRF (contract §4): a cross-site
 * page can neither send the cookie with a `POST`/`PATCH`/`DELETE` nor send JSON without a CORS preflight.
 * `Lax` rather than `Strict` so that a link to the dashboard from elsewhere opens it signed in.
 *
 * @example
 * const sessions = new Sessions();
 * sessions.start(res, { organizationId: 'org_1', organizationName: 'Acme' }, false);
 * sessions.get(req); // { organizationId: 'org_1', organizationName: 'Acme' } | null
 */
export class Sessions {
  readonly #byId = new Map<string, Session & { expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Starts a session and sets its cookie (`Secure` when `secure`). */
  start(res: Response, session: Session, secure: boolean): void {
    const id = randomBytes(32).toString('base64url');
    this.#byId.set(id, { ...session, expiresAt: this.#now() + MAX_AGE_SECONDS * 1000 });
    if (this.#byId.size > MAX_SESSIONS) {
      const oldest = this.#byId.keys().next().value;
      if (oldest !== undefined) this.#byId.delete(oldest);
    }
    const attributes = ['Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${MAX_AGE_SECONDS}`];
    if (secure) attributes.push('Secure');
    res.append('Set-Cookie', `${SESSION_COOKIE}=${id}; ${attributes.join('; ')}`);
  }

  /** The request's session, or `null` without a cookie, with an unknown id or after it expired. */
  get(req: Request): Session | null {
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    const session = id ? this.#byId.get(id) : undefined;
    if (!id || !session) return null;
    if (session.expiresAt <= this.#now()) {
      this.#byId.delete(id);
      return null;
    }
    return { organizationId: session.organizationId, organizationName: session.organizationName };
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name)
      return part.slice(separator + 1).trim() || null;
  }
  return null;
}
