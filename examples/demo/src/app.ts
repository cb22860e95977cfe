import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createAdminRouter, createDashboardRouter, createLeakReportRouter } from '@keyward/admin';
import { createKeyward, type KeyStore, type Keyward, type KeywardOptions } from '@keyward/core';

/** The `limits` option of `createKeyward`. */
type LimitOptions = NonNullable<KeywardOptions['limits']>;
/** The `lifetime` option of `createKeyward`. */
type LifetimeOptions = NonNullable<KeywardOptions['lifetime']>;

import express, { type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Store as SessionStore } from 'express-session';
import { demoErrorHandler, notFound } from './errors.js';
import { formatEventLine } from './event-log.js';
import { PAGE_CSP, renderSignupPage } from './pages.js';
import { createSessions, currentSession, SESSION_COOKIE } from './sessions.js';
import { signoutHandler } from './signout.js';
import { signupHandlers } from './signup.js';
import { Snippets } from './snippets.js';
import { createV1Router } from './v1.js';

/** The demo's scope catalog (docs/reference.md §4). */
export const DEMO_SCOPES = ['snippets:read', 'snippets:write'];
/** What public keys may hold. */
export const DEMO_PUBLIC_SCOPES = ['snippets:read'];
/** New public keys (the Default key too): 10 requests per second and 10,000 per day. */
export const DEMO_KEY_LIMITS: LimitOptions = {
  defaults: {
    public: [
      { limit: 10, windowSeconds: 1 },
      { limit: 10_000, windowSeconds: 86_400 },
    ],
  },
  // The most a customer may set (on average): without it a customer could PATCH its limits away.
  max: { public: { limit: 10, windowSeconds: 1 } },
};

const PUBLIC_FOLDER = fileURLToPath(new URL('../public/', import.meta.url));

/** Options of {@link createDemoApp}. */
export interface DemoOptions {
  /** Where keys are kept (`MongoKeyStore`, or `MemoryKeyStore`). */
  store: KeyStore;
  /**
   * Express's `trust proxy` (a hop count, or addresses such as `'loopback'`): set it when the demo runs
   * behind a proxy, so that `req.protocol`, `req.ip` and the session cookie's `Secure` flag follow
   * `X-Forwarded-Proto` / `X-Forwarded-For`. Avoid `true`: it trusts the leftmost `X-Forwarded-For` entry,
   * which the client writes, for `req.ip` (keys' `allowedIps`, the throttles, the audit log).
   * @default process.env.TRUST_PROXY (parsed by {@link parseTrustProxy}), else false
   */
  trustProxy?: boolean | number | string;
  /** Where sessions are kept (e.g. {@link mongoSessionStore}). @default a bounded in-memory store */
  sessionStore?: SessionStore;
  /** Signs the session cookie. @default process.env.SESSION_SECRET, else random per process */
  sessionSecret?: string;
  /** The most sessions the default in-memory store keeps (least recently used dropped first). @default 100_000 */
  maxMemorySessions?: number;
  /** Sign-ups allowed per client address (`req.ip`) and window. @default { limit: 20, windowMs: 600_000 } */
  signupRateLimit?: { limit: number; windowMs: number };
  /**
   * Pepper of the key hashes. @default process.env.KEYWARD_PEPPER, else random per process (keys kept in
   * MongoDB then stop verifying after a restart; the server says so at start)
   */
  pepper?: string;
  /**
   * Receives one line per server fault and one per audit event (`[event] key.created …`), never a token.
   * @default no logging
   */
  log?: (line: string) => void;
  /** Default limits of new keys and the most a customer may set. @default {@link DEMO_KEY_LIMITS} */
  keyLimits?: LimitOptions;
  /** The Keyward service's clock, in ms since the epoch (tests pin it). @default Date.now */
  clock?: () => number;
  /**
   * Where the keys that sign GitHub's secret-scanning reports (`POST /security/leaks/github`) are published.
   * @default process.env.LEAK_REPORT_KEYS_URL, else GitHub's own URL
   */
  leakReportKeysUrl?: string;
  /** How long keys may live, per type (docs/reference.md §11). @default none (any expiry) */
  lifetime?: LifetimeOptions;
  /** The scopes customers may grant through the admin API (docs/reference.md §10). @default every scope */
  grantableScopes?: readonly string[];
}

/** The demo app and the Keyward service it runs on. */
export interface DemoApp {
  app: express.Express;
  keyward: Keyward;
  /** Stops the timers of the demo's own parts (the memory session store's pruning). */
  close(): void;
}

/**
 * Reads `TRUST_PROXY` as Express's `trust proxy`: `true`/`false`, a hop count (`1`), or addresses and
 * names (`loopback`, `10.0.0.0/8, 127.0.0.1`); empty or unset means `false`.
 *
 * @example
 * parseTrustProxy('1'); // 1
 */
export function parseTrustProxy(value: string | undefined): boolean | number | string {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  return /^\d+$/.test(text) ? Number(text) : text;
}

/**
 * The demo server of docs/reference.md §4 as an Express app that does not listen: tests drive it with supertest,
 * `server.ts` listens.
 *
 * @example
 * const { app, keyward } = createDemoApp({ store: new MemoryKeyStore() });
 * app.listen(3000);
 */
export function createDemoApp(options: DemoOptions): DemoApp {
  const log = options.log ?? (() => {});
  const keyward = createKeyward({
    onEvent: (event) => log(formatEventLine(event)),
    store: options.store,
    scopes: DEMO_SCOPES,
    publicScopes: DEMO_PUBLIC_SCOPES,
    limits: options.keyLimits ?? DEMO_KEY_LIMITS,
    pepper: options.pepper || process.env.KEYWARD_PEPPER?.trim() || randomBytes(32).toString('base64url'),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.lifetime ? { lifetime: options.lifetime } : {}),
  });
  const sessions = createSessions({
    ...(options.sessionStore ? { store: options.sessionStore } : {}),
    ...(options.sessionSecret ? { secret: options.sessionSecret } : {}),
    ...(options.maxMemorySessions ? { maxMemorySessions: options.maxMemorySessions } : {}),
  });
  const session = sessions.middleware;
  const snippets = new Snippets();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? parseTrustProxy(process.env.TRUST_PROXY));

  const { limit, windowMs } = options.signupRateLimit ?? { limit: 20, windowMs: 10 * 60_000 };
  const signupLimit = rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    message: {
      error: { code: 'rate_limited', message: 'Too many sign-ups from this address. Try again later.' },
    },
  });

  app.get('/healthz', function healthz(_req, res) {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  // The key-protected API first: its requests do not walk past the pages', sessions' and admin's routes.
  app.use('/v1', createV1Router({ keyward, snippets }));

  app.get('/', session, function signupPage(req, res) {
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    page(res).send(renderSignupPage(currentSession(req), origin));
  });
  app.use(
    '/static',
    express.static(PUBLIC_FOLDER, {
      index: false,
      redirect: false,
      setHeaders: (res) => {
        res.set({
          'Content-Security-Policy': PAGE_CSP,
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': 'no-cache',
        });
      },
    }),
  );

  app.post('/signup', signupLimit, session, ...signupHandlers({ keyward, snippets }));
  app.post('/signout', session, signoutHandler());

  app.use(
    '/api/keys',
    session,
    createAdminRouter({
      keyward,
      authorize: (req) => {
        const signedIn = currentSession(req);
        // One owner per organization in the demo: the actor of its audit events.
        return signedIn
          ? {
              organizationId: signedIn.organizationId,
              actor: { type: 'user', id: `${signedIn.organizationId}:owner` },
            }
          : null;
      },
      // The document names the demo's own session cookie, so tools send the real credential.
      openapi: { security: { type: 'cookie', name: SESSION_COOKIE } },
      ...(options.grantableScopes ? { grantableScopes: options.grantableScopes } : {}),
    }),
  );

  // The page needs a session (without one: the sign-up page); its files do not.
  const signedInPage: RequestHandler = function requireSession(req, res, next) {
    const opensPage = (req.method === 'GET' || req.method === 'HEAD') && req.path === '/';
    if (opensPage && !currentSession(req)) res.redirect(303, '/');
    else next();
  };
  app.use(
    '/dashboard/api-keys',
    session,
    signedInPage,
    createDashboardRouter({
      apiUrl: '/api/keys',
      title: 'API keys',
      // First run: who is signed in, how to sign out, and how to call /v1 with a new key.
      organizationName: (req) => currentSession(req)?.organizationName,
      signOutUrl: '/signout',
      apiBaseUrl: '/v1',
      exampleRequestPath: '/whoami',
    }),
  );

  // GitHub's secret-scanning partner endpoint: a leaked secret key stops working at once (docs/reference.md §11).
  // Before any body parser: the signature is checked over the raw body.
  const keysUrl = options.leakReportKeysUrl || process.env.LEAK_REPORT_KEYS_URL?.trim();
  app.use(
    '/security/leaks/github',
    createLeakReportRouter({ keyward, onLeak: 'revoke', ...(keysUrl ? { keysUrl } : {}) }),
  );

  app.use(notFound);
  app.use(demoErrorHandler(log));
  return { app, keyward, close: sessions.close };
}

function page(res: express.Response): express.Response {
  return res
    .set({
      'Content-Security-Policy': PAGE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    })
    .type('html');
}
