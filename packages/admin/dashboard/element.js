// <keyward-api-keys>: the API keys dashboard as an element an app puts in its own pages, whatever its
// sign-in (cookies, a bearer token from its front end, its own headers or its own fetch). Load this file
// from the dashboard router's assets (`<mount>/assets/element.js`); it brings the stylesheet along.
//
//   <keyward-api-keys api-url="/api/keys"></keyward-api-keys>
//   <script type="module">
//     const keys = document.querySelector('keyward-api-keys');
//     keys.getToken = async () => auth.currentToken(); // Authorization: Bearer <token> on every request
//     await import('/settings/api-keys/assets/element.js');
//   </script>
//
// Attributes: `api-url` (the admin API's path, required), `heading` (default "API keys"), `sign-in-url`
// (where "Sign in again" goes after a 401; without it and without `signIn`, no such link),
// `organization-name`, `sign-out-url` (a sign-out form posts there), and for the new key's "Call the API"
// part `api-base-url`, `api-key-header` (default `Authorization`, sent as `Bearer <key>`), `example-path`.
// Properties (hooks): `getToken`, `headers`, `fetch`, `credentials` (see `ApiAuth` in api.js), `signIn`
// (a function "Sign in again" runs), `signOut` (a function the "Sign out" button runs; set it before
// the element connects) and `describeActor` (`(actor) => name`: the app's display name for the person or
// key behind an Activity event; the id is shown otherwise). Setting a hook after the element started loads the list again.
// The element also dispatches `keyward-unauthorized` (bubbling) on each 401 answer.
// One element per page: its parts have fixed ids.

import { mountDashboard } from './dashboard-app.js';
import { h } from './dom.js';

const STYLESHEET = new URL('./dashboard.css', import.meta.url).href;
const HOOKS = /** @type {const} */ ([
  'getToken',
  'headers',
  'fetch',
  'credentials',
  'signIn',
  'signOut',
  'describeActor',
]);

/** Puts the dashboard's stylesheet in the document's head once. */
function addStylesheet() {
  const present = [...document.querySelectorAll('link[rel="stylesheet"]')].some(
    (link) => /** @type {HTMLLinkElement} */ (link).href === STYLESHEET,
  );
  if (!present) document.head.append(h('link', { rel: 'stylesheet', href: STYLESHEET }));
}

export class KeywardApiKeysElement extends HTMLElement {
  /** @type {Record<string, unknown>} */
  #hooks = {};
  /** @type {{ reload: () => Promise<void> } | null} */
  #app = null;

  constructor() {
    super();
    // Hooks set on the element before this class was defined (it was upgraded later): take them over.
    for (const name of HOOKS) {
      if (Object.hasOwn(this, name)) {
        const value = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (this))[name];
        delete (/** @type {Record<string, unknown>} */ (/** @type {unknown} */ (this))[name]);
        this.#hooks[name] = value;
      }
    }
  }

  connectedCallback() {
    if (this.#app) return;
    addStylesheet();
    this.classList.add('kw-body', 'kw-embedded');
    const heading = this.getAttribute('heading') || 'API keys';
    const frame = h(
      'div',
      { class: 'kw-page', id: 'kw-dashboard' },
      h(
        'header',
        { class: 'kw-header' },
        h(
          'div',
          {},
          h('h2', { class: 'kw-title' }, heading),
          h(
            'p',
            { class: 'kw-lead' },
            'Keys authenticate requests to the API. ',
            h('strong', {}, 'Secret keys'),
            ' stay on your servers and are shown once. ',
            h('strong', {}, 'Public keys'),
            ' can be used in browsers and apps and only hold the scopes public keys may have.',
          ),
        ),
      ),
    );
    this.replaceChildren(frame);
    const apiUrl = (this.getAttribute('api-url') ?? '').replace(/\/+$/, '');
    this.#app = mountDashboard(frame, {
      apiUrl,
      dialogParent: this,
      describeActor: (actor) => {
        const describe = this.#hooks.describeActor;
        return typeof describe === 'function' ? describe(actor) : null;
      },
      organizationName: this.getAttribute('organization-name') || undefined,
      signOut: (() => {
        const signOut = this.#hooks.signOut;
        if (typeof signOut === 'function') return { onClick: () => signOut() };
        const href = this.getAttribute('sign-out-url');
        return href ? { href } : null;
      })(),
      callApi: () => {
        const baseUrl = this.getAttribute('api-base-url');
        return baseUrl
          ? {
              baseUrl,
              header: this.getAttribute('api-key-header') || 'Authorization',
              examplePath: this.getAttribute('example-path') ?? '',
            }
          : null;
      },
      auth: () => ({
        getToken: /** @type {any} */ (this.#hooks.getToken),
        headers: /** @type {any} */ (this.#hooks.headers),
        fetch: /** @type {any} */ (this.#hooks.fetch),
        credentials: /** @type {any} */ (this.#hooks.credentials) ?? 'same-origin',
      }),
      signIn: () => {
        this.dispatchEvent(new CustomEvent('keyward-unauthorized', { bubbles: true }));
        const signIn = this.#hooks.signIn;
        if (typeof signIn === 'function') return { onClick: () => signIn() };
        const href = this.getAttribute('sign-in-url');
        return href ? { href } : null;
      },
    });
  }

  /** @param {string} name @param {unknown} value */
  #set(name, value) {
    this.#hooks[name] = value;
    if (this.#app && name !== 'signIn' && name !== 'signOut') void this.#app.reload();
  }

  get getToken() {
    return this.#hooks.getToken;
  }
  set getToken(value) {
    this.#set('getToken', value);
  }
  get headers() {
    return this.#hooks.headers;
  }
  set headers(value) {
    this.#set('headers', value);
  }
  get fetch() {
    return this.#hooks.fetch;
  }
  set fetch(value) {
    this.#set('fetch', value);
  }
  get credentials() {
    return this.#hooks.credentials;
  }
  set credentials(value) {
    this.#set('credentials', value);
  }
  get describeActor() {
    return this.#hooks.describeActor;
  }
  set describeActor(value) {
    this.#set('describeActor', value);
  }
  get signOut() {
    return this.#hooks.signOut;
  }
  set signOut(value) {
    this.#set('signOut', value);
  }
  get signIn() {
    return this.#hooks.signIn;
  }
  set signIn(value) {
    this.#set('signIn', value);
  }
}

if (!customElements.get('keyward-api-keys')) {
  customElements.define('keyward-api-keys', KeywardApiKeysElement);
}
