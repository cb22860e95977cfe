/**
 * The Content-Security-Policy the dashboard's page and files are served with: nothing inline, nothing
 * from another origin.
 *
 * @example
 * res.set('Content-Security-Policy', DASHBOARD_CSP);
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * What the page needs to know: its title, the admin API's path and the path of its own files.
 *
 * @example
 * const page: DashboardPage = { title: 'API keys', apiUrl: '/api/keys', assetUrl: '/dashboard/assets' };
 */
export interface DashboardPage {
  title: string;
  /** The admin API's path, without a trailing slash. */
  apiUrl: string;
  /** The path the dashboard's files are served at, without a trailing slash. */
  assetUrl: string;
}

/**
 * The dashboard's HTML: a static skeleton that `main.js` brings to life. No inline script or style, so it
 * runs under {@link DASHBOARD_CSP}; every value is HTML-escaped.
 *
 * @example
 * res.type('html').send(renderDashboardPage({ title: 'API keys', apiUrl: '/api/keys', assetUrl: '/x/assets' }));
 */
export function renderDashboardPage({ title, apiUrl, assetUrl }: DashboardPage): string {
  const t = escapeHtml(title);
  const asset = (name: string) => escapeHtml(`${assetUrl}/${name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t}</title>
<link rel="icon" type="image/svg+xml" href="${asset('icon.svg')}">
<link rel="stylesheet" href="${asset('dashboard.css')}">
<script type="module" src="${asset('main.js')}"></script>
</head>
<body class="kw-body">
<main class="kw-page" id="kw-dashboard" data-api-url="${escapeHtml(apiUrl)}">
  <header class="kw-header">
    <div>
      <h1 class="kw-title">${t}</h1>
      <p class="kw-lead">Keys authenticate requests to the API. <strong>Secret keys</strong> stay on your servers and are shown once. <strong>Public keys</strong> can be used in browsers and apps and only hold the scopes public keys may have.</p>
    </div>
    <button type="button" class="kw-button kw-primary" id="kw-new-key" disabled>New API key</button>
  </header>
  <div class="kw-alert" id="kw-alert" role="alert"></div>
  <p class="kw-visually-hidden" id="kw-announcer" role="status" aria-live="polite"></p>
  <form class="kw-toolbar" id="kw-filters" role="search" aria-label="Filter keys">
    <div class="kw-field kw-search">
      <label class="kw-label" for="kw-search">Search</label>
      <input class="kw-input" id="kw-search" name="q" type="search" maxlength="100" autocomplete="off" placeholder="Name or last 4 characters">
    </div>
    <div class="kw-field">
      <label class="kw-label" for="kw-filter-type">Type</label>
      <select class="kw-input" id="kw-filter-type" name="type">
        <option value="">All types</option>
        <option value="secret">Secret</option>
        <option value="public">Public</option>
      </select>
    </div>
    <div class="kw-field">
      <label class="kw-label" for="kw-filter-status">Status</label>
      <select class="kw-input" id="kw-filter-status" name="status">
        <option value="">Current keys</option>
        <option value="active">Active</option>
        <option value="rolled">Rolled</option>
        <option value="disabled">Disabled</option>
        <option value="expired">Expired</option>
      </select>
    </div>
  </form>
  <div class="kw-card">
    <div class="kw-table-scroll">
      <table class="kw-table" id="kw-table" aria-describedby="kw-table-state">
        <caption class="kw-visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col"><span class="kw-visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody id="kw-rows"></tbody>
      </table>
    </div>
    <p class="kw-table-state" id="kw-table-state">Loading keys…</p>
    <div class="kw-paging" id="kw-paging" hidden>
      <button type="button" class="kw-button" id="kw-load-more">Load more keys</button>
    </div>
  </div>
  <noscript><p class="kw-alert kw-alert-static">This page needs JavaScript to manage keys.</p></noscript>
</main>

<dialog class="kw-dialog" id="kw-create-dialog" aria-labelledby="kw-create-title">
  <form class="kw-form" id="kw-create-form" novalidate>
    <h2 class="kw-dialog-title" id="kw-create-title">New API key</h2>
    <div class="kw-field">
      <label class="kw-label" for="kw-create-name">Name</label>
      <input class="kw-input" id="kw-create-name" name="name" maxlength="100" autocomplete="off" required aria-describedby="kw-create-name-hint" autofocus>
      <p class="kw-hint" id="kw-create-name-hint">Something that tells you where the key is used, e.g. “Production server”.</p>
    </div>
    <fieldset class="kw-field kw-fieldset">
      <legend class="kw-label">Type</legend>
      <div class="kw-choices">
        <label class="kw-choice">
          <input type="radio" name="type" value="secret" checked>
          <span><strong>Secret key</strong><span class="kw-hint">For servers. Shown once; never publish it.</span></span>
        </label>
        <label class="kw-choice">
          <input type="radio" name="type" value="public">
          <span><strong>Public key</strong><span class="kw-hint">For browsers and mobile apps. Can be shown again.</span></span>
        </label>
      </div>
    </fieldset>
    <fieldset class="kw-field kw-fieldset" id="kw-create-scopes" aria-describedby="kw-create-scopes-hint">
      <legend class="kw-label">Scopes</legend>
      <div class="kw-scope-list" id="kw-create-scope-list"></div>
      <p class="kw-hint" id="kw-create-scopes-hint"></p>
    </fieldset>
    <div id="kw-create-expiry"></div>
    <div class="kw-form-error" id="kw-create-error" role="alert"></div>
    <div class="kw-dialog-actions">
      <button type="button" class="kw-button" data-close>Cancel</button>
      <button type="submit" class="kw-button kw-primary" data-busy-label="Creating…">Create key</button>
    </div>
  </form>
</dialog>

<dialog class="kw-dialog" id="kw-token-dialog" aria-labelledby="kw-token-title" aria-describedby="kw-token-note">
  <div class="kw-form">
    <h2 class="kw-dialog-title" id="kw-token-title">Your new API key</h2>
    <p class="kw-callout" id="kw-token-note"></p>
    <div class="kw-field">
      <label class="kw-label" for="kw-token-value">API key</label>
      <div class="kw-copy-row">
        <input class="kw-input kw-mono" id="kw-token-value" readonly spellcheck="false" autocomplete="off">
        <button type="button" class="kw-button" id="kw-token-copy">Copy</button>
      </div>
      <p class="kw-hint kw-copy-status" id="kw-token-copy-status" role="status"></p>
    </div>
    <p class="kw-hint" id="kw-token-extra"></p>
    <div class="kw-dialog-actions">
      <button type="button" class="kw-button kw-primary" data-close>Done</button>
    </div>
  </div>
</dialog>

<dialog class="kw-dialog kw-dialog-narrow" id="kw-confirm-dialog" aria-labelledby="kw-confirm-title" aria-describedby="kw-confirm-message">
  <form class="kw-form" id="kw-confirm-form" novalidate>
    <h2 class="kw-dialog-title" id="kw-confirm-title">Are you sure?</h2>
    <p class="kw-confirm-message" id="kw-confirm-message"></p>
    <div id="kw-confirm-extra"></div>
    <div class="kw-form-error" id="kw-confirm-error" role="alert"></div>
    <div class="kw-dialog-actions">
      <button type="button" class="kw-button" data-close>Cancel</button>
      <button type="submit" class="kw-button kw-primary" id="kw-confirm-ok" data-busy-label="Working…">Confirm</button>
    </div>
  </form>
</dialog>
</body>
</html>
`;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and double-quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}
