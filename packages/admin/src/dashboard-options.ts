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
  /** Where "Sign in again" goes after a 401 (a same-origin path). @default the page itself (a reload) */
  signInUrl?: string;
  /** A same-origin path the page's "Sign out" form posts to (`POST`, form-encoded). @default no sign-out */
  signOutUrl?: string;
  /** The signed-in organization's name, shown in the header, from the request. @default not shown */
  organizationName?: (req: Request) => string | null | undefined;
  /**
   * The base URL of the app's API that keys are for (a path on the page's origin, or an `http(s)` URL),
   * shown with a curl line for a new key. @default no "Call the API" part
   */
  apiBaseUrl?: string;
  /** The header clients send keys in: `Authorization` means `Authorization: Bearer <key>`. @default "Authorization" */
  apiKeyHeader?: string;
  /** A path under `apiBaseUrl` for the curl line, e.g. `/whoami`. @default "" */
  exampleRequestPath?: string;
}

/** What the page shows besides the keys (see {@link DashboardOptions}); validated once. */
export interface ResolvedDashboardExtras {
  signInUrl: string;
  signOutUrl: string;
  organizationName: (req: Request) => string;
  apiBaseUrl: string;
  apiKeyHeader: string;
  exampleRequestPath: string;
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
  extras: ResolvedDashboardExtras;
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
  const extras = resolveExtras(options);
  if (typeof title !== 'string' || title.trim().length === 0 || title.length > MAX_TITLE_LENGTH) {
    throw new TypeError(
      `Keyward dashboard: title must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`,
    );
  }
  if (typeof apiUrl === 'function') {
    return {
      apiUrl: (req) => checkApiPath(apiUrl(req), 'the value apiUrl(req) returned'),
      title: title.trim(),
      extras,
    };
  }
  const fixed = checkApiPath(apiUrl, 'options.apiUrl');
  return { apiUrl: () => fixed, title: title.trim(), extras };
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

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const HTTP_URL = /^https?:\/\/[^\s\\"'<>`\p{Cc}]+$/u;

/** Validates the options of the page's extras (sign-in/out, organization, "Call the API"). */
function resolveExtras(options: DashboardOptions): ResolvedDashboardExtras {
  const {
    signInUrl,
    signOutUrl,
    organizationName,
    apiBaseUrl,
    apiKeyHeader = 'Authorization',
    exampleRequestPath = '',
  } = options;
  const path = (value: unknown, what: string) =>
    value === undefined ? '' : checkSamePath(value, `options.${what}`);
  if (organizationName !== undefined && typeof organizationName !== 'function') {
    throw new TypeError('Keyward dashboard: options.organizationName must be a function of the request');
  }
  if (
    apiBaseUrl !== undefined &&
    (typeof apiBaseUrl !== 'string' ||
      apiBaseUrl.length > MAX_URL_LENGTH ||
      !(SAME_ORIGIN_PATH.test(apiBaseUrl) || HTTP_URL.test(apiBaseUrl)))
  ) {
    throw new TypeError('Keyward dashboard: options.apiBaseUrl must be a path or an http(s) URL');
  }
  if (typeof apiKeyHeader !== 'string' || !HEADER_NAME.test(apiKeyHeader)) {
    throw new TypeError('Keyward dashboard: options.apiKeyHeader must be a header name, e.g. "X-API-Key"');
  }
  const example =
    exampleRequestPath === '' ? '' : checkSamePath(exampleRequestPath, 'options.exampleRequestPath');
  return {
    signInUrl: path(signInUrl, 'signInUrl'),
    signOutUrl: path(signOutUrl, 'signOutUrl'),
    organizationName: (req) => {
      const name = organizationName?.(req);
      return typeof name === 'string' ? name.slice(0, MAX_TITLE_LENGTH) : '';
    },
    apiBaseUrl: (apiBaseUrl ?? '').replace(/\/+$/, ''),
    apiKeyHeader,
    exampleRequestPath: example,
  };
}

/** A same-origin path (as `apiUrl`), kept as given. */
function checkSamePath(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_URL_LENGTH || !SAME_ORIGIN_PATH.test(value)) {
    throw new TypeError(`Keyward dashboard: ${what} must be a path on the page's own origin, e.g. "/login"`);
  }
  return value;
}
