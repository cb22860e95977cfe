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
  /** Optional extras, as `data-` attributes of the frame (empty: left out). */
  signInUrl?: string;
  signOutUrl?: string;
  organizationName?: string;
  apiBaseUrl?: string;
  apiKeyHeader?: string;
  exampleRequestPath?: string;
  /** File name → its name with its version (`main.<version>.js`): the page links those, cached for good. */
  files?: Readonly<Record<string, string>>;
}

/**
 * The dashboard's HTML: the page frame (title, lead, the admin API's path) into which `main.js` builds the
 * toolbar, the table and the dialogs. No inline script or style, so it runs under {@link DASHBOARD_CSP};
 * every value is HTML-escaped.
 *
 * @example
 * res.type('html').send(renderDashboardPage({ title: 'API keys', apiUrl: '/api/keys', assetUrl: '/x/assets' }));
 */
export function renderDashboardPage(page: DashboardPage): string {
  const { title, apiUrl, assetUrl } = page;
  const t = escapeHtml(title);
  const extras = (
    [
      ['sign-in-url', page.signInUrl],
      ['sign-out-url', page.signOutUrl],
      ['organization-name', page.organizationName],
      ['api-base-url', page.apiBaseUrl],
      ['api-key-header', page.apiBaseUrl ? page.apiKeyHeader : ''],
      ['example-request-path', page.apiBaseUrl ? page.exampleRequestPath : ''],
    ] as const
  )
    .filter(([, value]) => value)
    .map(([name, value]) => ` data-${name}="${escapeHtml(value as string)}"`)
    .join('');
  const asset = (name: string) => escapeHtml(`${assetUrl}/${page.files?.[name] ?? name}`);
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
<main class="kw-page" id="kw-dashboard" data-api-url="${escapeHtml(apiUrl)}"${extras}>
  <header class="kw-header">
    <div>
      <h1 class="kw-title">${t}</h1>
      <p class="kw-lead">Keys authenticate requests to the API. <strong>Secret keys</strong> stay on your servers and are shown once. <strong>Public keys</strong> can be used in browsers and apps and only hold the scopes public keys may have.</p>
    </div>
  </header>
  <noscript><p class="kw-alert kw-alert-static">This page needs JavaScript to manage keys.</p></noscript>
</main>
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
