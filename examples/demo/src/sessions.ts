import { randomBytes } from 'node:crypto';
import MongoStore from 'connect-mongo';
import type { Request, RequestHandler } from 'express';
import session, { type Store } from 'express-session';
import createMemoryStore from 'memorystore';
import mongoose from 'mongoose';

declare module 'express-session' {
  interface SessionData {
    organizationId: string;
    organizationName: string;
  }
}

/** The session cookie's name. */
export const SESSION_COOKIE = 'kw_demo_session';
/** How long a session lasts: 8 hours. */
export const SESSION_MAX_AGE_MS = 8 * 3_600_000;
/** How many sessions the in-memory store keeps at most (least recently used dropped first). */
export const MAX_MEMORY_SESSIONS = 100_000;

/** Who a session belongs to. */
export interface DemoSession {
  organizationId: string;
  organizationName: string;
}

/** Options of {@link createSessions}. */
export interface SessionOptions {
  /** Where sessions are kept. @default a bounded in-memory store (memorystore), pruned every 10 minutes */
  store?: Store;
  /** Signs the session cookie. @default process.env.SESSION_SECRET, else a random secret per process */
  secret?: string;
  /** The most sessions the default in-memory store keeps. @default 100_000 */
  maxMemorySessions?: number;
}

/** The demo's sessions: the middleware and a way to stop the in-memory store's pruning timer. */
export interface DemoSessions {
  /** `express-session`, to mount on the routes that need a session. */
  middleware: RequestHandler;
  /** Stops the default memory store's pruning timer (nothing to do for a store passed in). */
  close(): void;
}

/**
 * `express-session` with the demo's cookie: `kw_demo_session`, `HttpOnly`, `SameSite=Lax`, `Path=/`,
 * 8 hours, and `Secure` whenever the request came over HTTPS (`secure: 'auto'`: behind a proxy, the
 * app's `trust proxy` must trust it). No session is stored until someone signs up
 * (`saveUninitialized: false`), so visitors cannot fill the store by opening pages.
 *
 * @example
 * const sessions = createSessions({ secret: process.env.SESSION_SECRET });
 * app.use('/api/keys', sessions.middleware, adminRouter);
 */
export function createSessions(options: SessionOptions = {}): DemoSessions {
  let store = options.store;
  let close = () => {};
  if (!store) {
    const MemoryStore = createMemoryStore(session);
    const memory = new MemoryStore({
      checkPeriod: 10 * 60_000,
      max: options.maxMemorySessions ?? MAX_MEMORY_SESSIONS,
    });
    store = memory;
    close = () => memory.stopInterval();
  }
  const secret = options.secret || process.env.SESSION_SECRET || randomBytes(32).toString('base64url');
  const middleware = session({
    name: SESSION_COOKIE,
    secret,
    store,
    resave: false,
    saveUninitialized: false,
    // A session whose load failed (a store error) is kept, not deleted: the user stays signed in.
    unset: 'keep',
    cookie: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: 'auto',
      maxAge: SESSION_MAX_AGE_MS,
    },
  });
  return { middleware, close };
}

/** The demo's session store in MongoDB, with `close()` that stops its clean-up and closes its client. */
export type MongoSessionStore = Store & { close(): Promise<void> };

/** How often expired sessions are deleted. */
const SESSION_CLEANUP_MS = 10 * 60_000;

/**
 * A session store in the demo's MongoDB (or FerretDB) database, collection `sessions`, on a client of
 * its own (never the key store's connection: a fault of one cannot reach the other's pooled sockets).
 * Expired sessions are deleted every 10 minutes by an acknowledged `deleteMany` (connect-mongo's own
 * interval sends an unacknowledged one, `w: 0`, and FerretDB has no TTL indexes). `close()` stops that
 * and closes the client.
 *
 * @example
 * const sessionStore = mongoSessionStore(process.env.MONGO_URL, 'keyward_demo');
 */
export function mongoSessionStore(uri: string, dbName: string): MongoSessionStore {
  const client = new mongoose.mongo.MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  const store = MongoStore.create({
    client: client as unknown as NonNullable<Parameters<typeof MongoStore.create>[0]['client']>,
    dbName,
    collectionName: 'sessions',
    ttl: SESSION_MAX_AGE_MS / 1000,
    autoRemove: 'disabled',
    stringify: false,
  });
  const sessions = client.db(dbName).collection('sessions');
  const timer = setInterval(() => {
    sessions.deleteMany({ expires: { $lt: new Date() } }).catch(() => {});
  }, SESSION_CLEANUP_MS);
  timer.unref();
  return Object.assign(store, {
    async close() {
      clearInterval(timer);
      await client.close();
    },
  });
}

/**
 * The request's signed-in organization, or `null`.
 *
 * @example
 * const signedIn = currentSession(req); // { organizationId, organizationName } | null
 */
export function currentSession(req: Request): DemoSession | null {
  const { organizationId, organizationName } = req.session ?? {};
  return typeof organizationId === 'string' && typeof organizationName === 'string'
    ? { organizationId, organizationName }
    : null;
}

/**
 * Starts a fresh session for `who`: a new session id (against session fixation), then saved.
 *
 * @example
 * await startSession(req, { organizationId: 'org_1', organizationName: 'Acme' });
 */
export function startSession(req: Request, who: DemoSession): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((error?: unknown) => {
      if (error) {
        reject(error);
        return;
      }
      req.session.organizationId = who.organizationId;
      req.session.organizationName = who.organizationName;
      req.session.save((saveError?: unknown) => (saveError ? reject(saveError) : resolve()));
    });
  });
}

/**
 * Ends the request's session: removed from the store (the cookie is cleared by the caller).
 *
 * @example
 * await endSession(req);
 */
export function endSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!req.session) {
      resolve();
      return;
    }
    req.session.destroy((error?: unknown) => (error ? reject(error) : resolve()));
  });
}
