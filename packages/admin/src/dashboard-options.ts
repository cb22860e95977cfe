import type { Request } from 'express';

/**
 * Options of `createDashboardRouter`.
 *
 * @example
 * const options: DashboardOptions = { apiUrl: '/api/keys', title: 'API keys' };
 */
export interface DashboardOptions {
  /**
   * Where the browser reaches the admin API (`createAdminRouter`): a path on the page's own origin, such
   * as `/api/keys` (the page's Content-Security-Policy allows requests to its own origin only). A function
   * gets the request, for mount paths with parameters: `(req) => `/api/orgs/${req.params.org}/keys``
   * (the parameters of the mount path are visible).
   */
  apiUrl: string | ((req: Request) => string);
  /** The page's title and heading. @default "API keys" */
  title?: string;
}

/**
 * The options after validation; built once by the factory.
 *
 * @example
 * const { apiUrl, title } = resolveDashboardOptions({ apiUrl: '/api/keys' });
 */
export interface ResolvedDashboardOptions {
  /** The admin API's path for this request, without a trailing slash (`""` for the origin's root). */
  apiUrl: (req: Request) => string;
  title: string;
}

const MAX_TITLE_LENGTH = 200;
const MAX_URL_LENGTH = 2048;
// A path on the same origin: starts with one `/` (not `//`, and no `\`, which browsers read as `/`),
// without spaces, control characters or characters that would need escaping in HTML.
const SAME_ORIGIN_PATH = /^\/(?![/\\])[^\s\\"'<>`\p{Cc}]*$/u;

/**
 * Validates the options once (a wrong option throws `TypeError` at start-up); never mutates them.
 *
 * @example
 * resolveDashboardOptions({ apiUrl: 'https://example.com/keys' }); // throws TypeError: not a path
 */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('Keyward dashboard: options { apiUrl } are required');
  }
  const { apiUrl, title = 'API keys' } = options;
  if (typeof title !== 'string' || title.trim().length === 0 || title.length > MAX_TITLE_LENGTH) {
    throw new TypeError(
      `Keyward dashboard: title must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`,
    );
  }
  if (typeof apiUrl === 'function') {
    return {
      apiUrl: (req) => checkApiPath(apiUrl(req), 'the value apiUrl(req) returned'),
      title: title.trim(),
    };
  }
  const fixed = checkApiPath(apiUrl, 'options.apiUrl');
  return { apiUrl: () => fixed, title: title.trim() };
}

/** Checks that `value` is a same-origin path and drops trailing slashes (`/` becomes `""`). */
function checkApiPath(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || !SAME_ORIGIN_PATH.test(value)) {
    throw new TypeError(
      `Keyward dashboard: ${what} must be the admin API's path on the page's own origin, e.g. "/api/keys"`,
    );
  }
  return value.replace(/\/+$/, '');
}
