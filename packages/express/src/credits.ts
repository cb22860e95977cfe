import type { Keyward, KeywardError } from '@keyward/core';
import { MAX_CREDITS } from '@keyward/core/schemas';
import type { CreditPolicy } from '@keyward/core/store';
import type { Request, Response } from 'express';
import type { Realm } from './options.js';
import { refusal } from './refusal.js';
import { requestMark } from './request-mark.js';

/**
 * What a request costs in credits (docs/reference.md §10): a number, or a function of the request (e.g. by
 * the size of what it asks for). `0` only checks that the balance is above zero.
 *
 * @example
 * app.post('/v1/render', apiKeyAuth(keyward, { cost: (req) => (req.query.hd ? 5 : 1) }), render);
 */
export type CreditCost = number | ((req: Request) => number);

/** The response header with the key's balance after an admitted request (docs/reference.md §10). */
export const CREDITS_REMAINING_HEADER = 'Credits-Remaining';

/** What a request was charged already, by account: a second guard on its way charges only the difference. */
interface Charged {
  account: string;
  charged: number;
}

/** What the request was charged already (a later guard charges only the difference). */
const charges = requestMark<Charged>('charges');

function isCost(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= MAX_CREDITS;
}

/** The `cost` option checked (TypeError): a non-negative integer or a function. @default 1 */
export function resolveCost(where: string, cost: unknown): CreditCost {
  if (cost === undefined) return 1;
  if (typeof cost === 'function') return cost as (req: Request) => number;
  if (!isCost(cost)) {
    throw new TypeError(
      `${where}: cost must be an integer from 0 to ${MAX_CREDITS} or a function of the request`,
    );
  }
  return cost;
}

/**
 * Spends the request's cost from the key's credits: `null` admits (and sets `Credits-Remaining`), else a
 * 429 `credits_exhausted` with `Retry-After` until the next refill (none without one). Synchronous while
 * this instance holds leased credits of the key. A request through two guards pays the higher cost once.
 *
 * @example
 * const denied = await chargeCredits(keyward, policy.credits, 1, req, res, 'api');
 */
export function chargeCredits(
  keyward: Keyward,
  credits: CreditPolicy,
  cost: CreditCost,
  req: Request,
  res: Response | undefined,
  realm: Realm,
): KeywardError | null | Promise<KeywardError | null> {
  const asked = typeof cost === 'function' ? cost(req) : cost;
  if (!isCost(asked)) {
    throw new TypeError(`@keyward/express: cost(req) must return an integer from 0 to ${MAX_CREDITS}`);
  }
  const earlier = charges.get(req, res);
  const prior = earlier !== undefined && earlier.account === credits.account ? earlier.charged : 0;
  if (prior > 0 && asked <= prior) return null;
  const due = asked - prior;
  const answer = keyward.spendCredits(credits, due);
  if (answer instanceof Promise) return answer.then((a) => settle(a, credits, due, prior, req, res, realm));
  return settle(answer, credits, due, prior, req, res, realm);
}

/**
 * `String(n)` of a non-negative integer up to `MAX_CREDITS`, cheaper above 10⁹: V8 writes a small integer
 * from a cache but a larger one (a double) through its general number formatting, which costs about as much
 * as the rest of a spend. Two small integers and a padding instead.
 *
 * @example
 * decimal(1_000_000_000_007); // '1000000000007'
 */
export function decimal(n: number): string {
  if (n < 1_000_000_000) return String(n);
  const high = Math.floor(n / 1_000_000_000);
  const low = String(n - high * 1_000_000_000);
  return String(high) + '000000000'.slice(low.length) + low;
}

type CreditAnswer = Awaited<ReturnType<Keyward['spendCredits']>>;

/** After the spend: notes the charge (for a later guard) and sets the header, or the 429. */
function settle(
  answer: CreditAnswer,
  credits: CreditPolicy,
  due: number,
  prior: number,
  req: Request,
  res: Response | undefined,
  realm: Realm,
): KeywardError | null {
  if (answer.ok) {
    if (due > 0) {
      charges.set(req, res, { account: credits.account, charged: prior + due });
    }
    if (res !== undefined && !res.headersSent)
      res.setHeader(CREDITS_REMAINING_HEADER, decimal(answer.remaining));
    return null;
  }
  const headers: Record<string, string> = { [CREDITS_REMAINING_HEADER]: '0' };
  if (answer.retryAfterMs !== null)
    headers['Retry-After'] = String(Math.max(1, Math.ceil(answer.retryAfterMs / 1000)));
  return refusal('credits_exhausted', realm, undefined, headers);
}
