import type { KeywardError, VerifiedKey, VerifyResult } from '@keyward/core';
import type { Request, Response } from 'express';
import { admit, isRefusal, judge } from './check-key.js';
import { corsForKey } from './cors-for-key.js';
import type { CreditCost } from './credits.js';
import { afterRefusal, checkPolicy, checkThrottle } from './enforce-policy.js';
import { extractKey } from './extract-key.js';
import type { KeyLimiter } from './key-limiter.js';
import { log } from './logger.js';
import type { ResolvedAuth } from './options.js';
import { refusal } from './refusal.js';
import { COUNT_REFUSALS, reportOutcome } from './report-outcome.js';
import { setRequestKey } from './request-key.js';

/**
 * Receives the decision on a request: the admitted key (already on `req.apiKey` and counted), or the
 * refusal to answer (`req.apiKey` already cleared). `context` is what the adapter passed to `run`
 * (`next` for `apiKeyAuth`, the per-request strategy for Passport), so no closure is made per request.
 */
export type DecisionFinish<C> = (
  outcome: VerifiedKey | KeywardError,
  req: Request | undefined,
  res: Response | undefined,
  context: C,
) => void;

/** Receives a fault (the store failed, the app's `getKey` threw): not an answer, an error to pass on. */
export type DecisionFault<C> = (error: unknown, context: C) => void;

/**
 * The one decision of every Keyward adapter (`apiKeyAuth`, the Passport strategy), in docs/reference.md §6's
 * order: read the key, the invalid-key throttle before any lookup, the lookup (a cached key is answered
 * without a promise), then state, type and scopes, then IP, origin and limits, each outcome counted once.
 */
export interface RequestDecision<C> {
  /** Decides a request from its headers. */
  run(req: Request, res: Response | undefined, context: C): void;
  /** Decides an already read token (Passport's verify callback; `req` may be absent when called directly). */
  runToken(token: string, req: Request | undefined, res: Response | undefined, context: C): void;
}

/**
 * Builds the decision once per middleware or strategy: the closures live here, not per request.
 *
 * @example
 * const decision = createDecision(auth, limiter, (outcome, req, res, next) => …, (error, next) => next(error), 1);
 * return function apiKeyAuth(req, res, next) { decision.run(req, res, next); };
 */
export function createDecision<C>(
  auth: ResolvedAuth,
  limiter: KeyLimiter,
  finish: DecisionFinish<C>,
  fault: DecisionFault<C>,
  cost: CreditCost = 1,
): RequestDecision<C> {
  const { keyward, realm } = auth;

  function settle(
    outcome: VerifiedKey | KeywardError,
    req: Request | undefined,
    res: Response | undefined,
    context: C,
  ): void {
    if (isRefusal(outcome)) {
      if (log.enabled) log('refused: %s', outcome.code);
      // Only when set (by an earlier guard): nothing to clear on most refused requests.
      if (req !== undefined && req.apiKey !== undefined) setRequestKey(req, undefined);
    } else if (req !== undefined) admit(req, outcome, auth);
    finish(outcome, req, res, context);
  }

  function decide(result: VerifyResult, req: Request | undefined, res: Response | undefined, context: C) {
    // CORS from this verify result (origin-bound public keys): no second lookup, after the throttle.
    if (req !== undefined && result.valid && result.policy !== null)
      corsForKey(result.policy, result.key, req, res);
    const outcome = judge(auth, result, res);
    if (isRefusal(outcome)) {
      // A type or scope refusal of a key core admitted is the adapter's to count.
      if (result.valid) reportOutcome(keyward, req, res, result.key, outcome);
      const answer = req === undefined ? outcome : afterRefusal(limiter, req, outcome, realm);
      if (answer instanceof Promise)
        answer.then((a) => settle(a, req, res, context)).catch((error: unknown) => fault(error, context));
      else settle(answer, req, res, context);
      return;
    }
    // Without a request (a verify callback called directly) there is no address, origin or limit to judge.
    let denied: ReturnType<typeof checkPolicy>;
    try {
      const valid = result as VerifyResult & { valid: true };
      denied =
        req === undefined ? null : checkPolicy(limiter, valid, outcome, req, res, realm, keyward, cost);
    } catch (error) {
      // A `cost` function that threw or answered something that is no cost: the app's fault.
      return fault(error, context);
    }
    if (denied === null) {
      reportOutcome(keyward, req, res, outcome, null);
      settle(outcome, req, res, context);
    } else if (denied instanceof Promise)
      denied
        .then((d) => {
          reportOutcome(keyward, req, res, outcome, d);
          settle(d ?? outcome, req, res, context);
        })
        .catch((error: unknown) => fault(error, context));
    else {
      reportOutcome(keyward, req, res, outcome, denied);
      settle(denied, req, res, context);
    }
  }

  function runToken(token: string, req: Request | undefined, res: Response | undefined, context: C) {
    // A cached key (or a malformed token) is answered without waiting: no promise on the hot path.
    const cached = keyward.verifyCached(token, undefined, COUNT_REFUSALS);
    if (cached !== undefined) return decide(cached, req, res, context);
    keyward
      .verify(token, undefined, COUNT_REFUSALS)
      .then((result) => decide(result, req, res, context))
      .catch((error: unknown) => fault(error, context));
  }

  function run(req: Request, res: Response | undefined, context: C) {
    const found = extractKey(req, auth.source);
    if (!('token' in found)) {
      if ('fault' in found) return fault(found.fault, context);
      return settle(refusal(found.code, realm), req, res, context);
    }
    const throttled = checkThrottle(limiter, req, realm);
    if (throttled !== null) return settle(throttled, req, res, context);
    runToken(found.token, req, res, context);
  }

  return { run, runToken };
}
