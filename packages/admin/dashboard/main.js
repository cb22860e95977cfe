// The standalone API keys page: mounts the dashboard on the page frame the server sends (#kw-dashboard with
// its header). Requests carry the browser's cookies; after a 401, "Sign in again" goes to
// `data-sign-in-url` when the page has one, or reloads the page (the app's sign-in can then step in). The
// other `data-` attributes carry the router's options: the organization's name, the sign-out URL, and
// the app's API base URL, key header and example path for "Call the API".

import { mountDashboard } from './dashboard-app.js';
import { byId } from './dom.js';

const root = byId('kw-dashboard', HTMLElement);
const { signInUrl, signOutUrl, organizationName, apiBaseUrl, apiKeyHeader, exampleRequestPath } =
  root.dataset;
mountDashboard(root, {
  apiUrl: root.dataset.apiUrl ?? '',
  signIn: () => ({ href: signInUrl || window.location.href }),
  dialogParent: document.body,
  organizationName: organizationName || undefined,
  signOut: signOutUrl ? { href: signOutUrl } : null,
  callApi: () =>
    apiBaseUrl
      ? {
          baseUrl: apiBaseUrl,
          header: apiKeyHeader || 'Authorization',
          examplePath: exampleRequestPath ?? '',
        }
      : null,
});
