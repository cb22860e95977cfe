import { KeywardError } from '@keyward/core';
import type { Request } from 'express';

/**
 * Checks a request before anything else runs — before `authorize`, before the body is read, before the
 * service is called — and throws the refusal:
 *
 * 1. **Cross-site requests** (403 `forbidden`), on every state-changing method (anything but GET, HEAD,
 *    OPTIONS). An `Origin` listed in `trustedOrigins` is accepted. Otherwise a `Sec-Fetch-Site` other
 *    than `same-origin` or `none` is refused, and so is an `Origin` that is not the request's own origin
 *    (`req.protocol` + the host, so `trust proxy` is honoured) — `Origin: null` included. A request with
 *    neither header (curl, a server) is left to `authorize`.
 * 2. **Encoded bodies** (415 `unsupported_media_type`): a `Content-Encoding` other than `identity` on a
 *    route that reads a body, or on any request that carries one.
 * 3. **Non-JSON writes** (415 `unsupported_media_type`): a route that reads a body (`POST`, `PATCH`)
 *    needs `Content-Type: application/json` (a UTF charset, if any), even when the body is empty — an
 *    HTML form cannot send that type, and a cross-origin `fetch` cannot send it without a preflight.
 *
 * The 413 for a body over 16 kB comes later, when the body is read (after `authorize`).
 *
 * @example
 * const guard = createRequestGuard(['https://admin.example.com']);
 * guard(req, { readsBody: true }); // throws KeywardError('forbidden' | 'unsupported_media_type')
 */
export type RequestGuard = (req: Request, route: { readsBody: boolean }) => void;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;
const SAME_ORIGIN_FETCH_SITES = new Set(['same-origin', 'none']);

/**
 * Builds the guard of one router; `trustedOrigins` were validated by `resolveAdminOptions`.
 *
 * @example
 * const guard = createRequestGuard([]);
 * guard(req, { readsBody: false });
 */
export function createRequestGuard(trustedOrigins: readonly string[]): RequestGuard {
  const trusted = new Set(trustedOrigins);

  return function keywardAdminRequestGuard(req, { readsBody }) {
    if (!SAFE_METHODS.has(req.method)) refuseCrossSite(req, trusted);

    const encoding = req.headers['content-encoding'];
    if (
      encoding !== undefined &&
      encoding.trim().toLowerCase() !== 'identity' &&
      (readsBody || hasBody(req))
    ) {
      throw new KeywardError('unsupported_media_type', {
        message: 'The request body must not be compressed (no Content-Encoding).',
      });
    }

    if (readsBody && !isJsonContentType(req.headers['content-type'])) {
      throw new KeywardError('unsupported_media_type', {
        message: 'Send Content-Type: application/json, with a JSON body ({} when there is nothing to send).',
      });
    }
  };
}

function refuseCrossSite(req: Request, trusted: ReadonlySet<string>): void {
  const origin = req.headers.origin;
  if (origin !== undefined && trusted.has(origin)) return;
  const site = req.headers['sec-fetch-site'];
  const crossSite =
    (site !== undefined && !SAME_ORIGIN_FETCH_SITES.has(site.trim().toLowerCase())) ||
    (origin !== undefined && origin !== ownOrigin(req));
  if (crossSite) {
    throw new KeywardError('forbidden', {
      message: 'Cross-origin requests may not change API keys.',
    });
  }
}

/**
 * The origin the request was sent to, as a browser writes it in `Origin` (`https://host[:port]`, default
 * ports left out); `null` when it has no usable host. The scheme is `req.protocol` and the host is the one
 * `req.host` would use (`X-Forwarded-Host` when `trust proxy` trusts the peer, else `Host`), so the app's
 * `trust proxy` setting decides, on Express 4 and 5 alike.
 */
function ownOrigin(req: Request): string | null {
  let host = req.get('Host');
  const forwarded = req.get('X-Forwarded-Host');
  const trustProxy = req.app.get('trust proxy fn') as ((address: string, hop: number) => boolean) | undefined;
  if (forwarded && trustProxy?.(req.socket.remoteAddress ?? '', 0)) {
    const comma = forwarded.indexOf(',');
    host = (comma === -1 ? forwarded : forwarded.slice(0, comma)).trim();
  }
  // Only a plain host name or IP literal with an optional port names an origin.
  if (!host || !HOST.test(host)) return null;
  try {
    return new URL(`${req.protocol}://${host}`).origin;
  } catch {
    return null;
  }
}

/** `application/json`, with at most a UTF charset (what the JSON parser reads) among its parameters. */
function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...parameters] = header.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (!charset.startsWith('utf-')) return false;
  }
  return true;
}

/**
 * Whether the request carries a body. `Content-Length: 0` (what `fetch` sends for a bodiless POST)
 * counts as none.
 *
 * @example
 * if (hasBody(req)) { ... }
 */
export function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
