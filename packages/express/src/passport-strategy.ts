import type { IncomingMessage } from 'node:http';
import type { Keyward, KeywardError, VerifiedKey, VerifyResult } from '@keyward/core';
import type { Request } from 'express';
import { HeaderAPIKeyStrategy } from 'passport-headerapikey';
import { admit, isRefusal, judge } from './check-key.js';
import { corsForKey } from './cors-for-key.js';
import { afterRefusal, checkPolicy, checkThrottle } from './enforce-policy.js';
import { extractKey } from './extract-key.js';
import { type KeyLimiter, resolveLimiter } from './key-limiter.js';
import { log } from './logger.js';
import {
  checkOptionsObject,
  type KeySourceOptions,
  REQUIREMENT_OPTIONS,
  type ResolvedAuth,
  type RouteRequirements,
  resolveAuth,
  SOURCE_OPTIONS,
} from './options.js';
import { refusal } from './refusal.js';
import { COUNT_NONE, COUNT_REFUSALS, reportOutcome } from './report-outcome.js';

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
const AUTH = Symbol('keyward.auth');
const LIMITER = Symbol('keyward.limiter');
const RESOLVE_USER = Symbol('keyward.resolveUser');

/**
 * The strategy class. passport-headerapikey reads a single header with a case-sensitive prefix and cannot
 * see a second, different key, so `authenticate` is overridden to read both headers the way `apiKeyAuth`
 * does; the verify callback, `passReqToCallback` and the success/fail/error protocol are the base class's.
 */
class KeywardPassportStrategy extends HeaderAPIKeyStrategy implements KeywardStrategy {
  readonly [AUTH]: ResolvedAuth;
  readonly [LIMITER]: KeyLimiter;
  readonly [RESOLVE_USER]: UserResolver | null;

  constructor(auth: ResolvedAuth, name: string, limiter: KeyLimiter, resolveUser: UserResolver | null) {
    // Only for the base class's own reading, which `authenticate` below replaces.
    const header = auth.source.authorization ?? auth.source.apiKeys[0] ?? 'authorization';
    const prefix = auth.source.authorization === null ? '' : 'Bearer ';
    super({ header, prefix }, true, (token, verified, req) =>
      verifyToken(auth, limiter, resolveUser, token, verified, req),
    );
    this.name = name;
    this[AUTH] = auth;
    this[LIMITER] = limiter;
    this[RESOLVE_USER] = resolveUser;
  }

  override authenticate(req: IncomingMessage, _options?: object): void {
    const auth = this[AUTH];
    // Fail closed: only a key verified now may stay on the request (cleared only when set: adding a property
    // to Express's req costs µs a request).
    if ((req as Request).apiKey !== undefined) (req as Request).apiKey = undefined;
    const found = extractKey(req, auth.source);
    if (!('token' in found)) {
      this.error('fault' in found ? found.fault : refusal(found.code, auth.realm));
      return;
    }
    // Contract §6: a throttled address is refused before any lookup.
    const throttled = checkThrottle(this[LIMITER], req as Request, auth.realm);
    if (throttled !== null) {
      this.error(throttled);
      return;
    }
    // The hot path: a cached, admitted key without policies, whose user is the key, is decided here, with no
    // callback to allocate. Counts nothing: a request that does not finish here is verified (and counted)
    // again by verifyToken.
    const cached =
      this[RESOLVE_USER] === null ? auth.keyward.verifyCached(found.token, undefined, COUNT_NONE) : undefined;
    if (cached?.valid && cached.policy === null) {
      const outcome = judge(auth, cached, (req as Request).res);
      if (!isRefusal(outcome)) {
        reportOutcome(auth.keyward, req, outcome, null);
        admit(req as Request, outcome, auth);
        this.success(outcome, undefined);
        return;
      }
    }
    // The base class's verified-callback protocol: error → error(), no user → fail(), else success().
    const verified: Verified = (err, user, info) => {
      if (err) return this.error(err);
      if (!user) return this.fail(info, undefined);
      this.success(user, info);
    };
    this.verify(found.token, verified, req);
  }
}

function verifyToken(
  auth: ResolvedAuth,
  limiter: KeyLimiter,
  resolveUser: UserResolver | null,
  token: string,
  verified: Verified,
  req?: IncomingMessage,
): void {
  const refuse = (error: KeywardError) => {
    if (log.enabled) log('refused: %s', error.code);
    verified(error);
  };
  const failed = (error: unknown) =>
    verified(error instanceof Error ? error : new Error('Keyward verification failed'));
  const settle = (result: VerifyResult) => {
    const res = (req as Request | undefined)?.res;
    if (req && result.valid && result.policy !== null)
      corsForKey(result.policy, result.key, req as Request, res);
    const outcome = judge(auth, result, res);
    if (isRefusal(outcome)) {
      if (result.valid) reportOutcome(auth.keyward, req, result.key, outcome);
      const answer = req ? afterRefusal(limiter, req as Request, outcome, auth.realm) : outcome;
      if (answer instanceof Promise) answer.then(refuse, failed);
      else refuse(answer);
      return;
    }
    const pass = (denied: KeywardError | null) => {
      reportOutcome(auth.keyward, req, outcome, denied);
      if (denied !== null) return refuse(denied);
      if (req) admit(req as Request, outcome, auth);
      if (resolveUser === null) return verified(null, outcome);
      giveUser(resolveUser, outcome, req as Request, auth.realm, verified);
    };
    // Without a request (called directly) there is no address, origin or response to judge limits on.
    if (!req) return pass(null);
    const denied = checkPolicy(
      limiter,
      result as VerifyResult & { valid: true },
      outcome,
      req as Request,
      res,
      auth.realm,
      auth.keyward,
    );
    if (denied instanceof Promise) denied.then(pass, failed);
    else pass(denied);
  };
  // A cached key (or a malformed token) is decided without waiting, as in apiKeyAuth.
  const cached = auth.keyward.verifyCached(token, undefined, COUNT_REFUSALS);
  if (cached !== undefined) {
    settle(cached);
    return;
  }
  auth.keyward.verify(token, undefined, COUNT_REFUSALS).then(settle, failed);
}

/**
 * Hands Passport the app's user for an admitted key. No user refuses the request (and takes the key off
 * it); a throw or a rejection is a fault of the app, passed on as it is.
 */
function giveUser(
  resolveUser: UserResolver,
  key: VerifiedKey,
  req: Request,
  realm: string,
  verified: Verified,
): void {
  const deliver = (user: ResolvedUser) => {
    if (user !== null && user !== undefined && user !== false) return verified(null, user);
    if (log.enabled) log('refused: resolveUser found no user for the key');
    if (req.apiKey !== undefined) req.apiKey = undefined;
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
  return new KeywardPassportStrategy(auth, name, limiter, resolveUser as UserResolver | null);
}
