// The admin API client: JSON in, JSON out, and every failure as an ApiError carrying the server's
// error.message, so the page can show it.

/**
 * @typedef {import('./types.js').Key} Key
 * @typedef {{ scopes: string[], publicScopes: string[], grantableScopes?: string[] }} ScopeCatalog
 * @typedef {{ path: string, message: string }} Detail
 * @typedef {import('./types.js').Event} KeyEvent
 * @typedef {{ limit: number, windowSeconds: number }} Limit
 * @typedef {{ limits?: Limit[], allowedOrigins?: string[], allowedIps?: string[] }} PolicyInput
 */

/** A refused or failed request; `message` is meant for people. */
export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status, 0 when the server could not be reached
   * @param {string} code
   * @param {string} message
   * @param {Detail[]} [details]
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * How the page's requests are authenticated (see "Embedding the dashboard" in the package's README):
 * - nothing set: the browser's cookies (`credentials: 'same-origin'`), for cookie sign-in;
 * - `getToken`: an `Authorization: Bearer <token>` header on every request, with the token the app's front
 *   end returns (asked for each request, so a refreshed token is used at once; `null` sends none);
 * - `headers`: extra headers on every request (an object, or a function returning one);
 * - `fetch`: the app's own `fetch` (it may add headers, refresh tokens, retry); it gets the same arguments
 *   as `window.fetch`.
 *
 * @typedef {{
 *   getToken?: (() => string | null | undefined | Promise<string | null | undefined>) | null,
 *   headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>) | null,
 *   fetch?: typeof fetch | null,
 *   credentials?: RequestCredentials,
 * }} ApiAuth
 */

/**
 * A client of the admin API mounted at `base` (a same-origin path without a trailing slash).
 *
 * @param {string} base
 * @param {() => ApiAuth} [auth] read at each request, so hooks set later are used
 */
export function createApi(base, auth = () => ({})) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @param {Record<string, string>} [extraHeaders] e.g. `If-Match`
   * @param {(etag: string | null) => void} [onTag] gets the answer's `ETag`
   * @returns {Promise<any>}
   */
  async function call(method, path, body, extraHeaders = {}, onTag = undefined) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json', ...extraHeaders };
    const { getToken, headers: extra, fetch: appFetch, credentials = 'same-origin' } = auth();
    // The admin API takes every POST and PATCH as JSON only, a bodiless one included (its guard against
    // cross-site forms): send `{}` when there is nothing to say.
    const sendsJson = method === 'POST' || method === 'PATCH' || body !== undefined;
    if (sendsJson) headers['Content-Type'] = 'application/json';
    let response;
    try {
      const more = typeof extra === 'function' ? await extra() : extra;
      if (more && typeof more === 'object') Object.assign(headers, more);
      const token = typeof getToken === 'function' ? await getToken() : null;
      if (typeof token === 'string' && token !== '') headers.Authorization = `Bearer ${token}`;
      response = await (appFetch ?? window.fetch).call(window, base + path, {
        method,
        headers,
        body: sendsJson ? JSON.stringify(body ?? {}) : undefined,
        credentials,
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(
        0,
        'network_error',
        'The server could not be reached. Check your connection and try again.',
      );
    }
    if (response.ok) onTag?.(response.headers.get('ETag'));
    if (response.status === 204) return null;
    /** @type {any} */
    let json = null;
    try {
      json = await response.json();
    } catch {
      // Not JSON: handled below.
    }
    if (!response.ok) throw toApiError(response.status, json);
    if (json === null || typeof json !== 'object') {
      throw new ApiError(response.status, 'bad_response', 'The server sent an answer this page cannot read.');
    }
    return json;
  }

  const key = (/** @type {string} */ id) => `/${encodeURIComponent(id)}`;

  /**
   * `If-Match` for a change of the key as the page showed it (`seen`): its current `ETag`, or a 412 at once
   * when someone changed it since the page showed it (its `updatedAt` moved). The server checks the tag in
   * the write itself, so a change between this read and the write is a 412 too.
   * @param {Key | undefined} seen
   * @returns {Promise<Record<string, string>>}
   */
  async function ifMatch(seen) {
    if (!seen) return {};
    /** @type {string | null} */
    let etag = null;
    const now = (
      await call('GET', key(seen.id), undefined, {}, (tag) => {
        etag = tag;
      })
    ).data;
    if (now?.updatedAt !== seen.updatedAt) {
      throw new ApiError(412, 'precondition_failed', CHANGED_MESSAGE);
    }
    return etag ? { 'If-Match': etag } : {};
  }

  return {
    /**
     * One page of keys.
     * @param {{ limit?: number, cursor?: string | null, q?: string, type?: string, status?: string }} [query]
     * @returns {Promise<{ data: Key[], nextCursor: string | null }>}
     */
    list: async (query = {}) => {
      const json = await call('GET', `/${queryString(query)}`);
      return { data: json.data, nextCursor: typeof json.nextCursor === 'string' ? json.nextCursor : null };
    },
    /** @returns {Promise<ScopeCatalog>} */
    scopes: async () => (await call('GET', '/scopes')).data,
    /**
     * @param {{ name: string, type: string, scopes?: string[], expiresAt?: string } & PolicyInput} input
     * @returns {Promise<{ data: Key, token: string }>}
     */
    create: (input) => call('POST', '/', input),
    /**
     * `seen` (the key as the page showed it): change it only if nobody else has since (else 412).
     * @param {string} id
     * @param {{ disabled?: boolean, name?: string, scopes?: string[], expiresAt?: string | null } & PolicyInput} changes
     * @param {Key} [seen]
     * @returns {Promise<Key>}
     */
    update: async (id, changes, seen) => (await call('PATCH', key(id), changes, await ifMatch(seen))).data,
    /**
     * @param {string} id
     * @param {number} gracePeriodSeconds
     * @param {Key} [seen]
     * @returns {Promise<{ data: Key, token: string, previous: Key }>}
     */
    roll: async (id, gracePeriodSeconds, seen) =>
      call('POST', `${key(id)}/roll`, { gracePeriodSeconds }, await ifMatch(seen)),
    /**
     * @param {string} id
     * @param {Key} [seen]
     */
    remove: async (id, seen) => {
      await call('DELETE', key(id), undefined, await ifMatch(seen));
    },
    /**
     * One page of the organization's events, newest first (docs/reference.md §7), optionally of one key
     * (`chain: 'true'`: of its whole roll chain).
     * @param {{ keyId?: string, chain?: 'true', type?: string, limit?: number, cursor?: string | null }} [query]
     * @returns {Promise<{ data: KeyEvent[], nextCursor: string | null }>}
     */
    events: async (query = {}) => {
      const json = await call('GET', `/events${queryString(query)}`);
      return { data: json.data, nextCursor: typeof json.nextCursor === 'string' ? json.nextCursor : null };
    },
    /**
     * The keys outside the lifetime policy, with the reason (docs/reference.md §11): id → reason. Empty
     * from a server without the route (404).
     * @returns {Promise<Map<string, string>>}
     */
    nonCompliant: async () => {
      try {
        const json = await call('GET', '/non-compliant');
        return new Map(
          (Array.isArray(json.data) ? json.data : []).map(
            (/** @type {{ id: string, reason: string }} */ k) => [k.id, k.reason],
          ),
        );
      } catch (error) {
        if (/** @type {{ status?: number }} */ (error)?.status === 404) return new Map();
        throw error;
      }
    },
    /**
     * A key's credits (docs/reference.md §10): its balance now, refill and next refill; `null` when it has
     * none, or from a server without the route (404 there is the route's, not the key's: the key is listed).
     * @param {string} id
     * @returns {Promise<Credits | null>}
     */
    credits: async (id) => {
      try {
        const json = await call('GET', `${key(id)}/credits`);
        return json.data ?? null;
      } catch (error) {
        if (/** @type {{ status?: number }} */ (error)?.status === 404) return null;
        throw error;
      }
    },
    /**
     * Verifications per bucket (docs/reference.md §9) of one key, or of the organization (`id` null).
     * @param {string | null} id
     * @param {{ granularity: string, from: string, to?: string }} query
     * @returns {Promise<Usage>}
     */
    usage: (id, query) => call('GET', `${id === null ? '' : key(id)}/usage${queryString(query)}`),
  };
}

/**
 * @typedef {{
 *   remaining: number,
 *   refill: { amount: number, intervalSeconds: number } | null,
 *   refillsAt: string | null,
 *   source: 'key' | 'plan',
 * }} Credits
 * @typedef {{ at: string, admitted: number, refused: Record<string, number> }} UsageBucket
 * @typedef {{ data: UsageBucket[], granularity: string }} Usage
 */

/** @typedef {ReturnType<typeof createApi>} Api */

const CHANGED_MESSAGE =
  'Someone else changed this key since this page showed it. The list now shows it as it is: check it and try again.';

/**
 * `?a=1&b=2` of the query's non-empty values, or `''`.
 * @param {Record<string, string | number | null | undefined>} query
 */
function queryString(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `?${search}` : '';
}

/**
 * @param {number} status
 * @param {any} json
 * @returns {ApiError}
 */
function toApiError(status, json) {
  const error = json && typeof json === 'object' ? json.error : undefined;
  const code = typeof error?.code === 'string' ? error.code : 'http_error';
  let message =
    typeof error?.message === 'string' ? error.message : `The server answered with status ${status}.`;
  // Not "your session has ended": the app may sign in with tokens and have no session at all.
  if (status === 401) message = 'This request was not authorized. Sign in again, then retry.';
  if (status === 412) message = CHANGED_MESSAGE;
  const details = Array.isArray(error?.details)
    ? error.details.filter(
        (/** @type {any} */ d) => d && typeof d.path === 'string' && typeof d.message === 'string',
      )
    : [];
  return new ApiError(status, code, message, details);
}
