import { KeywardError } from '@keyward/core';
import type { Request, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';

/** Admin writes (POST, PATCH, DELETE) one organization may make per minute by default. */
export const DEFAULT_WRITES_PER_MINUTE = 120;

/** Counts one write of `organizationId`; rejects with 429 `too_many_requests` over the cap. */
export type WriteLimit = (req: Request, res: Response, organizationId: string) => Promise<void>;

/**
 * The per-organization cap on admin writes, on express-rate-limit (one fixed window of a minute, keyed by
 * the organization `authorize` named, never by address: one organization behind many addresses is still
 * one organization). Over the cap the write is refused before its body is read, with 429
 * `too_many_requests`, `Retry-After` (seconds) and the draft-8 `RateLimit` headers. `store` shares the
 * counts between instances (e.g. rate-limit-redis's `RedisStore`); without it they are per process.
 *
 * @example
 * const limit = createWriteLimit(120);
 * await limit(req, res, 'org_1'); // throws KeywardError('too_many_requests') on the 121st write in a minute
 */
export function createWriteLimit(perMinute: number, store?: Store): WriteLimit {
  const organizations = new WeakMap<Request, string>();
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    keyGenerator: (req) => organizations.get(req as Request) ?? '',
    identifier: 'keyward-admin-writes',
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // Its checks are about keys made from addresses, and they report through console.error: ours is the
    // organization, and a library does not write to the console.
    validate: false,
    handler: (_req, res, next) => {
      const retryAfter = res.getHeader('Retry-After');
      next(
        new KeywardError('too_many_requests', {
          ...(retryAfter !== undefined && { headers: { 'Retry-After': String(retryAfter) } }),
        }),
      );
    },
    ...(store && { store }),
  });
  return (req, res, organizationId) => {
    organizations.set(req, organizationId);
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => (error ? reject(error) : resolve());
      Promise.resolve(limiter(req, res, done)).catch(reject);
    });
  };
}
