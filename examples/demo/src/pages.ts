import { DASHBOARD_CSP } from '@keyward/admin';
import type { DemoSession } from './sessions.js';

/** The demo's pages use the dashboard's Content-Security-Policy: nothing inline, nothing from another origin. */
export const PAGE_CSP = DASHBOARD_CSP;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/**
 * The sign-up page at `GET /`: an organization name, then the API keys page. When the visitor is signed
 * in already, it links to their organization's keys too, with a sign-out button (a plain form posting
 * to `/signout`: no script needed). `origin` is used in the example command.
 *
 * @example
 * res.type('html').send(renderSignupPage(currentSession(req), 'http://localhost:3000'));
 */
export function renderSignupPage(session: DemoSession | null, origin: string): string {
  const signedIn = session
    ? `<div class="demo-signed-in"><p>You are signed in to <strong>${escapeHtml(session.organizationName)}</strong>. <a href="/dashboard/api-keys">Open its API keys</a></p>
    <form method="post" action="/signout" class="demo-signout"><button type="submit">Sign out</button></form></div>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keyward demo</title>
<link rel="icon" type="image/svg+xml" href="/static/icon.svg">
<link rel="stylesheet" href="/static/demo.css">
<script type="module" src="/static/signup.js"></script>
</head>
<body>
<main class="demo">
  <section class="demo-card" aria-labelledby="signup-title">
    <p class="demo-brand"><img src="/static/icon.svg" alt="" width="28" height="28"> Keyward demo</p>
    <h1 id="signup-title">Create an organization</h1>
    <p class="demo-lead">It gets a public <strong>Default API Key</strong> at once. Then create secret keys, roll,
    disable and delete them on the API keys page, and call the API below with them.</p>
    ${signedIn}
    <form class="demo-form" id="signup-form" novalidate>
      <label for="organization">Organization name</label>
      <input id="organization" name="organization" maxlength="100" required autocomplete="organization" autofocus>
      <div class="demo-error" id="signup-error" role="alert"></div>
      <button type="submit">Create organization</button>
    </form>
  </section>
  <section class="demo-card demo-api" aria-labelledby="api-title">
    <h2 id="api-title">The API</h2>
    <table>
      <thead><tr><th scope="col">Route</th><th scope="col">Needs</th></tr></thead>
      <tbody>
        <tr><td><code>GET /v1/whoami</code></td><td>any key</td></tr>
        <tr><td><code>GET /v1/snippets</code></td><td>a key with <code>snippets:read</code></td></tr>
        <tr><td><code>POST /v1/snippets</code></td><td>a secret key with <code>snippets:write</code></td></tr>
      </tbody>
    </table>
    <p>Send the key as <code>Authorization: Bearer &lt;key&gt;</code> or <code>X-API-Key: &lt;key&gt;</code>:</p>
    <pre><code>curl -H "Authorization: Bearer $KEY" ${escapeHtml(origin)}/v1/whoami</code></pre>
  </section>
</main>
</body>
</html>
`;
}
