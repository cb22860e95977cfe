// The admin API client: JSON in, JSON out, and every failure as an ApiError carrying the server's
// error.message, so the page can show it.

/**
 * @typedef {import('./types.js').Key} Key
 * @typedef {{ scopes: string[], publicScopes: string[] }} ScopeCatalog
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
 * A client of the admin API mounted at `base` (a same-origin path without a trailing slash).
 *
 * @param {string} base
 */
export function createApi(base) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async function call(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    // The admin API takes every POST and PATCH as JSON only, a bodiless one included (its guard against
    // cross-site forms): send `{}` when there is nothing to say.
    const sendsJson = method === 'POST' || method === 'PATCH' || body !== undefined;
    if (sendsJson) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        body: sendsJson ? JSON.stringify(body ?? {}) : undefined,
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(
        0,
        'network_error',
        'The server could not be reached. Check your connection and try again.',
      );
    }
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
     * @param {string} id
     * @param {{ disabled?: boolean, name?: string, scopes?: string[], expiresAt?: string | null } & PolicyInput} changes
     * @returns {Promise<Key>}
     */
    update: async (id, changes) => (await call('PATCH', key(id), changes)).data,
    /**
     * @param {string} id
     * @param {number} gracePeriodSeconds
     * @returns {Promise<{ data: Key, token: string, previous: Key }>}
     */
    roll: (id, gracePeriodSeconds) => call('POST', `${key(id)}/roll`, { gracePeriodSeconds }),
    /** @param {string} id */
    remove: async (id) => {
      await call('DELETE', key(id));
    },
    /**
     * One page of the organization's events, newest first (contract §7), optionally of one key.
     * @param {{ keyId?: string, type?: string, limit?: number, cursor?: string | null }} [query]
     * @returns {Promise<{ data: KeyEvent[], nextCursor: string | null }>}
     */
    events: async (query = {}) => {
      const json = await call('GET', `/events${queryString(query)}`);
      return { data: json.data, nextCursor: typeof json.nextCursor === 'string' ? json.nextCursor : null };
    },
  };
}

/** @typedef {ReturnType<typeof createApi>} Api */

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
  if (status === 401) message += ' Your session has ended.';
  const details = Array.isArray(error?.details)
    ? error.details.filter(
        (/** @type {any} */ d) => d && typeof d.path === 'string' && typeof d.message === 'string',
      )
    : [];
  return new ApiError(status, code, message, details);
}
