// The standalone API keys page: mounts the dashboard on the page frame the server sends (#kw-dashboard with
// its header). Requests carry the browser's cookies; after a 401, "Sign in again" goes to
// `data-sign-in-url` when the page has one, or reloads the page (the app's sign-in can then step in).

import { mountDashboard } from './dashboard-app.js';
import { byId } from './dom.js';

const root = byId('kw-dashboard', HTMLElement);
const signInUrl = root.dataset.signInUrl;
mountDashboard(root, {
  apiUrl: root.dataset.apiUrl ?? '',
  signIn: () => ({ href: signInUrl || window.location.href }),
  dialogParent: document.body,
});
