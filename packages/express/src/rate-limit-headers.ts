import type { KeyLimit } from '@keyward/core';
import type { Response } from 'express';

interface PolicyHeader {
  name: string;
  policy: string;
}

/** Per frozen limit object of a cached key: the policy header is built once, not per request. */
const built = new WeakMap<Readonly<KeyLimit>, PolicyHeader>();

/**
 * Sets the IETF `RateLimit-Policy` and `RateLimit` headers, named in lowercase on the wire
 * (draft-ietf-httpapi-ratelimit-headers-08, the format of express-rate-limit's `standardHeaders: 'draft-8'`)
 * for one limit, e.g.
 * `RateLimit-Policy: "10-in-1s"; q=10; w=1` and `RateLimit: "10-in-1s"; r=7; t=1`.
 *
 * @example
 * setRateLimitHeaders(res, { limit: 10, windowSeconds: 1 }, 7, 1);
 */
export function setRateLimitHeaders(
  res: Response | undefined,
  limit: Readonly<KeyLimit>,
  remaining: number,
  resetSeconds: number,
): void {
  if (res === undefined) return;
  let header = built.get(limit);
  if (header === undefined) {
    const name = `"${limit.limit}-in-${limit.windowSeconds}s"`;
    header = { name, policy: `${name}; q=${limit.limit}; w=${limit.windowSeconds}` };
    if (Object.isFrozen(limit)) built.set(limit, header);
  }
  // A response already sent (an earlier middleware answered and still called `next`) keeps its headers:
  // `setHeader` throws then, and only then (both values are valid). Cheaper than reading `headersSent` first.
  try {
    // Lowercase names (field names are case-insensitive; HTTP/2 sends them so): Node lowercases a name in
    // `setHeader` and again when it writes the head, and a mixed-case one costs a new string each time
    // (about 1 µs a request for these two, bench/README.md).
    res.setHeader('ratelimit-policy', header.policy);
    res.setHeader('ratelimit', `${header.name}; r=${remaining}; t=${resetSeconds}`);
  } catch {
    // headers already sent: nothing to add to them
  }
}
