import type { IncomingMessage } from 'node:http';
import type { Keyward, VerifiedKey } from '@keyward/core';
import type { Request } from 'express';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { isRefusal } from './check-key.js';
import { createDecision, type DecisionFinish, type RequestDecision } from './decide-request.js';
import { type KeyLimiter, resolveLimiter } from './key-limiter.js';
import { log } from './logger.js';
import {
  checkOptionsObject,
  type KeySourceOptions,
  REQUIREMENT_OPTIONS,
  type Realm,
  type ResolvedAuth,
  type RouteRequirements,
  resolveAuth,
  SOURCE_OPTIONS,
} from './options.js';
import { refusal } from './refusal.js';
import { setRequestKey } from './request-key.js';

/**
 * Options of `createPassportStrategy`: the strategy name, what it requires of keys, and where to read them.
 *
 * @example
 * passport.use(createPassportStrategy(keyward, { name: 'keyward-secret', type: 'secret' }));
 */
export interface KeywardStrategyOptions extends KeySourceOptions, RouteRequirements {
  /** The name to use in `passport.authenticate(name)`. @default "keyward" */
  name?: string;
  /**
   * Counts requests against keys' `limits` and refused keys against client addresses (docs/reference.md §6), as
   * `apiKeyAuth`'s option of the same name.
   * @default the Keyward service's in-memory limiter, shared with `apiKeyAuth`
   */
  limiter?: KeyLimiter;
  /**
   * Makes `req.user` your app's own record for the key (say the account or service that owns it), while
   * `req.apiKey` stays the key. Called once per admitted request, after every check, with the verified key
   * and the request (`req.apiKey` is already set); may return a promise. Returning `null`, `undefined` or
   * `false` refuses the request with 401 `invalid_api_key` (the key has no user in your app any more); a
   * throw or rejection goes to `next(err)`.
   * @default undefined: `req.user` is the verified key itself (the same object as `req.apiKey`)
   */
  resolveUser?: UserResolver;
}

/** What `resolveUser` may answer: the app's user, or nothing to refuse the key. */
export type ResolvedUser = object | null | undefined | false;

/**
 * Finds the app's own user for a verified key, e.g. `(key) => Accounts.findById(key.organizationId)`.
 *
 * @example
 * const resolveUser: UserResolver = async (key) => await Users.findOne({ organizationId: key.organizationId });
 */
export type UserResolver = (key: VerifiedKey, req: Request) => ResolvedUser | PromiseLike<ResolvedUser>;

/**
 * A Passport strategy (a `HeaderAPIKeyStrategy` of passport-headerapikey) that authenticates Keyward keys.
 *
 * @example
 * const strategy: KeywardStrategy = createPassportStrategy(keyward);
 * passport.use(strategy); // then passport.authenticate(strategy.name, { session: false })
 */
export interface KeywardStrategy {
  /** The strategy's name, `'keyward'` unless set. */
  readonly name: string;
  /** Called by Passport once per request. */
  authenticate(req: Request, options?: object): void;
}

type Verified = (err: Error | null, user?: object | false, info?: object) => void;

const WHERE = '@keyward/express createPassportStrategy';
const ALLOWED = [...SOURCE_OPTIONS, ...REQUIREMENT_OPTIONS, 'name', 'limiter', 'resolveUser'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;
// Passport runs each request on `Object.create(strategy)`; a symbol-keyed property (unlike `#private`)
// is found through that prototype chain.
const DECISION = Symbol('keyward.decision');

/**
 * The strategy class. passport-headerapikey reads a single header with a case-sensitive prefix and cannot
 * see a second, different key, so `authenticate` is overridden to read the key the way `apiKeyAuth` does,
 * through the same decision; the verify callback, `passReqToCallback` and the success/fail/error protocol
 * are the base class's.
 */
class KeywardPassportStrategy extends HeaderAPIKeyStrategy implements KeywardStrategy {
  readonly [DECISION]: RequestDecision<Verified>;

  constructor(auth: ResolvedAuth, name: string, decision: RequestDecision<Verified>) {
    // Only for the base class's own reading, which `authenticate` below replaces.
    const header = auth.source.authorization ?? auth.source.apiKeys[0] ?? 'authorization';
    const prefix = auth.source.authorization === null ? '' : 'Bearer ';
    super({ header, prefix }, true, (token, verified, req) =>
      decision.runToken(token, req as Request | undefined, (req as Request | undefined)?.res, verified),
    );
    this.name = name;
    this[DECISION] = decision;
  }

  override authenticate(req: IncomingMessage, _options?: object): void {
    // Fail closed: only a key verified now may stay on the request (cleared only when set).
    if ((req as Request).apiKey !== undefined) setRequestKey(req as Request, undefined);
    // The base class's verified-callback protocol: error → error(), no user → fail(), else success().
    const verified: Verified = (err, user, info) => {
      if (err) return this.error(err);
      if (!user) return this.fail(info, undefined);
      this.success(user, info);
    };
    this[DECISION].run(req as Request, (req as Request).res, verified);
  }
}

/** The strategy's answer to the shared decision: a refusal is an error, an admitted key its user. */
function answerWith(resolveUser: UserResolver | null, realm: Realm): DecisionFinish<Verified> {
  return (outcome, req, _res, verified) => {
    if (isRefusal(outcome)) return verified(outcome);
    if (resolveUser === null || req === undefined) return verified(null, outcome);
    giveUser(resolveUser, outcome, req, realm, verified);
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error('Keyward verification failed');
}

/**
 * Hands Passport the app's user for an admitted key. No user refuses the request (and takes the key off
 * it); a throw or a rejection is a fault of the app, passed on as it is.
 */
function giveUser(
  resolveUser: UserResolver,
  key: VerifiedKey,
  req: Request,
  realm: Realm,
  verified: Verified,
): void {
  const deliver = (user: ResolvedUser) => {
    if (user !== null && user !== undefined && user !== false) return verified(null, user);
    if (log.enabled) log('refused: resolveUser found no user for the key');
    if (req.apiKey !== undefined) setRequestKey(req, undefined);
    verified(refusal('invalid_api_key', realm));
  };
  const failed = (error: unknown) =>
    verified(error instanceof Error ? error : new Error('resolveUser failed', { cause: error }));
  let answer: ResolvedUser | PromiseLike<ResolvedUser>;
  try {
    answer = resolveUser(key, req);
  } catch (error) {
    failed(error);
    return;
  }
  if (isThenable(answer)) Promise.resolve(answer).then(deliver, failed);
  else deliver(answer);
}

function isThenable(value: unknown): value is PromiseLike<ResolvedUser> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Creates a Passport strategy named `'keyward'`, built on passport-headerapikey's `HeaderAPIKeyStrategy`.
 * On success `req.apiKey` is `{ id, organizationId, name, type, scopes }` and `req.user` is what
 * `resolveUser` answers for it, or, without `resolveUser`, the same key object. A rolled
 * key in its grace period gets `Sunset` and `Deprecation` headers. Every refusal is passed to `next(err)` as a
 * `KeywardError`: mount `keywardErrorHandler()` to answer with the documented JSON body (status and
 * `WWW-Authenticate` come from the error even without it). Options are checked once (TypeError).
 *
 * @example
 * import passport from 'passport';
 * import { keywardErrorHandler } from '@keyward/express';
 * import { createPassportStrategy } from '@keyward/express/passport';
 *
 * passport.use(
 *   createPassportStrategy(keyward, {
 *     // req.user: the app's own record; req.apiKey: the key. Without it, req.user is the key.
 *     resolveUser: (key) => Accounts.findById(key.organizationId),
 *   }),
 * );
 * app.get('/v1/whoami', passport.authenticate('keyward', { session: false }), (req, res) => {
 *   res.json({ account: req.user, apiKey: req.apiKey });
 * });
 * app.use(keywardErrorHandler());
 */
export function createPassportStrategy(keyward: Keyward, options?: KeywardStrategyOptions): KeywardStrategy {
  const checked = checkOptionsObject(WHERE, options, ALLOWED);
  const auth = resolveAuth(WHERE, keyward, checked);
  const name = checked.name ?? 'keyward';
  if (typeof name !== 'string' || !NAME.test(name))
    throw new TypeError(`${WHERE}: name must be a strategy name`);
  const resolveUser = checked.resolveUser ?? null;
  if (resolveUser !== null && typeof resolveUser !== 'function')
    throw new TypeError(`${WHERE}: resolveUser must be a function`);
  const limiter = resolveLimiter(WHERE, checked.limiter, auth.keyward);
  const decision = createDecision<Verified>(
    auth,
    limiter,
    answerWith(resolveUser as UserResolver | null, auth.realm),
    (error, verified) => verified(asError(error)),
  );
  return new KeywardPassportStrategy(auth, name, decision);
}
