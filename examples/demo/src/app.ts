import { fileURLToPath } from 'node:url';
import { createAdminRouter, createDashboardRouter } from '@keyward/admin';
import { createKeyward, type KeyStore, type Keyward } from '@keyward/core';
import express, { type RequestHandler } from 'express';
import { demoErrorHandler, notFound } from './errors.js';
import { PAGE_CSP, renderSignupPage } from './pages.js';
import { Sessions } from './sessions.js';
import { signupHandlers } from './signup.js';
import { Snippets } from './snippets.js';
import { createV1Router } from './v1.js';

/** The demo's scope catalog (contract §4). */
export const DEMO_SCOPES = ['snippets:read', 'snippets:write'];
/** What public keys may hold. */
export const DEMO_PUBLIC_SCOPES = ['snippets:read'];

const PUBLIC_FOLDER = fileURLToPath(new URL('../public/', import.meta.url));

/** Options of {@link createDemoApp}. */
export interface DemoOptions {
  /** Where keys are kept (`MongoKeyStore`, or `MemoryKeyStore`). */
  store: KeyStore;
  /** Mark the session cookie `Secure` (when the demo is served over HTTPS). @default false */
  secureCookies?: boolean;
  /** Pepper of the key hashes. @default process.env.KEYWARD_PEPPER */
  pepper?: string;
  /** Receives one line per server fault (never a token). @default no logging */
  log?: (line: string) => void;
}

/** The demo app and the Keyward service it runs on. */
export interface DemoApp {
  app: express.Express;
  keyward: Keyward;
}

/**
 * The demo server of contract §4 as an Express app that does not listen: tests drive it with supertest,
 * `server.ts` listens.
 *
 * @example
 * const { app, keyward } = createDemoApp({ store: new MemoryKeyStore() });
 * app.listen(3000);
 */
export function createDemoApp(options: DemoOptions): DemoApp {
  const keyward = createKeyward({
    store: options.store,
    scopes: DEMO_SCOPES,
    publicScopes: DEMO_PUBLIC_SCOPES,
    pepper: options.pepper ?? process.env.KEYWARD_PEPPER,
  });
  const sessions = new Sessions();
  const snippets = new Snippets();
  const log = options.log ?? (() => {});
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', function healthz(_req, res) {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  app.get('/', function signupPage(req, res) {
    const origin = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    page(res).send(renderSignupPage(sessions.get(req), origin));
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

  app.post(
    '/signup',
    ...signupHandlers({ keyward, sessions, snippets, secureCookies: options.secureCookies ?? false }),
  );

  app.use(
    '/api/keys',
    createAdminRouter({
      keyward,
      authorize: (req) => {
        const session = sessions.get(req);
        return session ? { organizationId: session.organizationId } : null;
      },
    }),
  );

  // The page needs a session (without one: the sign-up page); its files do not.
  const signedInPage: RequestHandler = function requireSession(req, res, next) {
    const opensPage = (req.method === 'GET' || req.method === 'HEAD') && req.path === '/';
    if (opensPage && !sessions.get(req)) res.redirect(303, '/');
    else next();
  };
  app.use(
    '/dashboard/api-keys',
    signedInPage,
    createDashboardRouter({ apiUrl: '/api/keys', title: 'API keys' }),
  );

  app.use('/v1', createV1Router({ keyward, snippets }));

  app.use(notFound);
  app.use(demoErrorHandler(log));
  return { app, keyward };
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
