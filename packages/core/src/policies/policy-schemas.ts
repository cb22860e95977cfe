import { isIP } from 'node:net';
import { z } from 'zod';

// The input rules of a key's policies (docs/reference.md §6), once: `limits`, `allowedOrigins`, `allowedIps`.
// schemas.ts puts them into the create, update and wire Key schemas; the OpenAPI document and the
// dashboard's types are generated from there.

/** The most limits (windows) one key may carry. */
export const MAX_LIMITS = 3;
/** The largest `limit` of one window. */
export const MAX_LIMIT = 1_000_000_000;
/** The longest window of a limit: 31 days, in seconds. */
export const MAX_WINDOW_SECONDS = 2_678_400;
/** The most `allowedOrigins` entries of one key. */
export const MAX_ALLOWED_ORIGINS = 20;
/** The most `allowedIps` entries of one key. */
export const MAX_ALLOWED_IPS = 50;

const limitMessage = `Must be an integer from 1 to ${MAX_LIMIT}.`;
const windowMessage = `Must be an integer from 1 to ${MAX_WINDOW_SECONDS} (31 days).`;

/**
 * One limit: at most `limit` admitted requests per `windowSeconds` (a fixed window that starts with the
 * first request counted in it).
 *
 * @example
 * keyLimitSchema.parse({ limit: 20, windowSeconds: 1 });
 */
export const keyLimitSchema = z
  .strictObject(
    {
      limit: z
        .int({ error: limitMessage })
        .min(1, limitMessage)
        .max(MAX_LIMIT, limitMessage)
        .meta({ description: 'Most requests admitted per window.' }),
      windowSeconds: z
        .int({ error: windowMessage })
        .min(1, windowMessage)
        .max(MAX_WINDOW_SECONDS, windowMessage)
        .meta({ description: 'Length of the window in seconds (1 second to 31 days).' }),
      per: z
        .enum(['key', 'owner', 'organization'], { error: 'Must be "key", "owner" or "organization".' })
        .optional()
        .meta({
          description:
            'Who the count belongs to: the key (default; a rolled key and its successor share it), its ' +
            'owner (every key of the owner; a key without owner counts with its organization), or its ' +
            'organization (every key of it).',
        }),
    },
    { error: 'Must be an object { limit, windowSeconds }.' },
  )
  .meta({ description: 'At most `limit` requests per `windowSeconds`.' });

/**
 * A copy of one limit with exactly its fields (`per` only when it is not the default).
 *
 * @example
 * key.limits.map(copyLimit);
 */
export function copyLimit(l: {
  limit: number;
  windowSeconds: number;
  per?: 'key' | 'owner' | 'organization' | undefined;
}): { limit: number; windowSeconds: number; per?: 'owner' | 'organization' } {
  return l.per === undefined || l.per === 'key'
    ? { limit: l.limit, windowSeconds: l.windowSeconds }
    : { limit: l.limit, windowSeconds: l.windowSeconds, per: l.per };
}

/** Up to 3 limits with distinct windows, e.g. 20 per second and 100,000 per 30 days. */
export const limitsSchema = z
  .array(keyLimitSchema, { error: 'Must be an array of { limit, windowSeconds }.' })
  .max(MAX_LIMITS, `Must hold at most ${MAX_LIMITS} limits.`)
  .superRefine((limits, ctx) => {
    const seen = new Set<string>();
    limits.forEach((entry, index) => {
      const counter = `${entry.per ?? 'key'}:${entry.windowSeconds}`;
      if (seen.has(counter)) {
        ctx.addIssue({
          code: 'custom',
          path: [index, 'windowSeconds'],
          message: 'Each limit must have a different window (or count per a different owner).',
        });
      }
      seen.add(counter);
    });
  })
  .meta({
    description:
      'Rate limits and quotas, each enforced (429 `rate_limited` once one is exceeded). Up to 3, with ' +
      'distinct windows. Empty: no limit.',
  });

// A host name label, a host (name, IPv4 or bracketed IPv6) and a port 1-65535.
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST = String.raw`(?:${LABEL}(?:\.${LABEL})*|\[[0-9a-f:.]{2,45}\])`;
const WILDCARD_HOST = String.raw`\*\.${LABEL}(?:\.${LABEL})+`;
const PORT = '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

/**
 * An allowed origin as browsers send it in `Origin`: `scheme://host[:port]`, lower case, no path; or a
 * wildcard `scheme://*.example.com[:port]` matching every subdomain (at any depth) but not the domain
 * itself. The wildcard needs at least two labels after it (`https://*.com` is refused).
 */
export const ORIGIN_PATTERN = new RegExp(
  `^[a-z][a-z0-9+.-]{0,30}://(?:${WILDCARD_HOST}|${HOST})(?::${PORT})?$`,
);

const originMessage =
  'Must be an origin such as https://app.example.com or https://*.example.com (lower case, optional port, no path).';

/** Browser origins a public key may be used from. */
export const allowedOriginsSchema = z
  .array(
    z
      .string({ error: originMessage })
      .max(300, originMessage)
      .regex(ORIGIN_PATTERN, originMessage)
      .meta({
        description:
          'An origin as browsers send it in `Origin`: `scheme://host[:port]` in lower case, without a path ' +
          'or trailing slash; or `scheme://*.example.com[:port]`, every subdomain of example.com (not ' +
          'example.com itself; at least two labels after `*.`).',
        examples: ['https://app.example.com', 'https://*.example.com'],
      }),
    { error: 'Must be an array of origins.' },
  )
  .max(MAX_ALLOWED_ORIGINS, `Must hold at most ${MAX_ALLOWED_ORIGINS} origins.`)
  .meta({
    description:
      'Public keys only: browser origins the key may be used from (`Origin`, or the origin of `Referer` ' +
      'when `Origin` is absent); `https://*.example.com` matches every subdomain. Others get 403 ' +
      '`origin_not_allowed`. Empty: any origin.',
  });

const ipMessage =
  'Must be an IPv4 or IPv6 address or CIDR range, e.g. 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32.';

/**
 * The shape of an `allowedIps` entry, portable (ECMAScript without flags, Python `re`, RE2): hexadecimal
 * digits, dots and colons, an optional IPv6 zone, an optional prefix length. Every entry `isIpOrCidr`
 * accepts matches it; the ranges of the numbers are the server's check.
 */
export const IP_OR_CIDR_PATTERN = /^[0-9A-Fa-f:.]{2,45}(?:%[^/]+)?(?:\/(?:0|[1-9][0-9]{0,2}))?$/;

/** Whether `value` is an IPv4/IPv6 address or a CIDR range with a prefix length that fits its family. */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const prefix = value.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Client addresses (IPv4/IPv6 addresses and CIDR ranges) the key may be used from. */
export const allowedIpsSchema = z
  .array(
    z
      .string({ error: ipMessage })
      .max(100, ipMessage)
      .refine(isIpOrCidr, ipMessage)
      .meta({
        pattern: IP_OR_CIDR_PATTERN.source,
        description:
          'An IPv4 address (`203.0.113.7`), an IPv6 address (`2001:db8::1`, an IPv4-mapped one or a zone ' +
          'such as `%eth0` included), or a CIDR range of either (`10.0.0.0/8`, `2001:db8::/32`; prefix at ' +
          'most 32 or 128). `pattern` is the shape; that the numbers are in range is checked by the server ' +
          '(400 `validation_error`).',
        examples: ['203.0.113.7', '10.0.0.0/8', '2001:db8::/32'],
      }),
    { error: 'Must be an array of addresses or CIDR ranges.' },
  )
  .max(MAX_ALLOWED_IPS, `Must hold at most ${MAX_ALLOWED_IPS} addresses or ranges.`)
  .meta({
    description:
      "IPv4/IPv6 addresses and CIDR ranges the key may be used from (the app's `req.ip`); others get " +
      '403 `ip_not_allowed`. Empty: any address.',
  });
