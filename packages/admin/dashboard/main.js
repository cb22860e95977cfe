// The API keys page: builds the toolbar, the table, the Activity panel and the dialogs into the page frame
// the server sends (#kw-dashboard with its header), loads the keys and the scope catalog from the admin
// API, and wires the "…" menu's actions to the dialogs.

import { createActivityPanel } from './activity-panel.js';
import { createApi } from './api.js';
import { createConfirmDialog } from './confirm-dialog.js';
import { deleteConfirmation, rollConfirmation, toggleConfirmation } from './confirmations.js';
import { createCreateDialog } from './create-dialog.js';
import { byId, h, replaceChildren } from './dom.js';
import { createEditDialog } from './edit-dialog.js';
import { expiryNotice } from './expiry-notice.js';
import { announce as announceIn, asApiError, clearError, showError } from './feedback.js';
import { refreshRelativeTimes } from './format.js';
import { keyRow, orderKeys } from './key-rows.js';
import { createKeyTable } from './key-table.js';
import { sortKeys } from './sort.js';
import { createTokenDialog } from './token-dialog.js';
import { createToolbar } from './toolbar.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/** Keys per page of the admin API. */
const PAGE_SIZE = 50;

const root = byId('kw-dashboard', HTMLElement);
const api = createApi(root.dataset.apiUrl ?? '');

const state = {
  /** @type {Key[]} */
  keys: [],
  /** @type {ScopeCatalog | null} */
  catalog: null,
  /** Public keys shown in full. @type {Set<string>} */
  revealed: new Set(),
  /** Where the next page starts; `null` when every key is shown. @type {string | null} */
  nextCursor: null,
};

// ---- The page ----------------------------------------------------------------------------------------

const newKeyButton = h(
  'button',
  { type: 'button', class: 'kw-button kw-primary', id: 'kw-new-key', disabled: true },
  'New API key',
);
const alertBox = h('div', { class: 'kw-alert', id: 'kw-alert', role: 'alert' });
const announcer = h('p', {
  class: 'kw-visually-hidden',
  id: 'kw-announcer',
  role: 'status',
  'aria-live': 'polite',
});
const toolbar = createToolbar({
  onFilter: () => {
    state.keys = [];
    void refresh();
  },
  onSort: () => {
    render();
    announce('Keys sorted.');
  },
});
const table = createKeyTable();
const stickyBar = h('div', { class: 'kw-sticky' }, toolbar.element);
const notice = h('p', { class: 'kw-notice', id: 'kw-expiry-notice', hidden: true });
const activity = createActivityPanel({ api, keys: () => state.keys });
(root.querySelector('.kw-header') ?? root).append(newKeyButton);
root
  .querySelector('.kw-header')
  ?.after(alertBox, announcer, notice, stickyBar, table.element, activity.element);

/** @param {string} text */
const announce = (text) => announceIn(announcer, text);

// The table header sticks below the toolbar: it needs the toolbar's height, which changes with the width.
// The page scrolls a focused row out from under them too (scroll-padding-top in the stylesheet).
new ResizeObserver(() => {
  document.documentElement.style.setProperty('--kw-sticky-height', `${stickyBar.offsetHeight}px`);
}).observe(stickyBar);

// ---- Loading and rendering -------------------------------------------------------------------------

/**
 * Reads the first page again, as many keys as are shown now (at most 100), with the current filters.
 * @returns {Promise<void>}
 */
async function readFirstPage() {
  const limit = Math.min(100, Math.max(PAGE_SIZE, state.keys.length));
  const page = await api.list({ ...toolbar.query(), limit });
  state.keys = page.data;
  state.nextCursor = page.nextCursor;
}

async function load() {
  table.setState('Loading keys…');
  const [keys, catalog] = await Promise.allSettled([
    api.list({ ...toolbar.query(), limit: PAGE_SIZE }),
    api.scopes(),
  ]);
  // Without the catalog the form leaves scopes out: the server then gives the key every scope it may hold.
  if (catalog.status === 'fulfilled') state.catalog = catalog.value;
  if (keys.status === 'rejected') {
    table.setState('The keys could not be loaded.');
    const retry = h(
      'button',
      { type: 'button', class: 'kw-button kw-small', onclick: () => void load() },
      'Try again',
    );
    showError(alertBox, keys.reason, {}, retry);
    return;
  }
  clearError(alertBox);
  newKeyButton.disabled = false;
  state.keys = keys.value.data;
  state.nextCursor = keys.value.nextCursor;
  render();
  await activity.load();
}

/** Reloads the list (and the activity); a failure is shown above the table. */
async function refresh() {
  // Busy while the rows are replaced: assistive technology (and tests) wait for the new list.
  table.element.setAttribute('aria-busy', 'true');
  try {
    await readFirstPage();
    clearError(alertBox);
    render();
  } catch (error) {
    showError(alertBox, error, {}, signInAgain(error));
  } finally {
    table.element.setAttribute('aria-busy', 'false');
  }
  await activity.refresh();
}

/** A "Sign in again" link when the session has ended (reloading lets the app ask for a sign-in). @param {unknown} error */
function signInAgain(error) {
  return /** @type {{ status?: number }} */ (error)?.status === 401
    ? h('a', { class: 'kw-signin', href: window.location.href }, 'Sign in again')
    : null;
}

table.loadMore.addEventListener('click', async () => {
  if (!state.nextCursor) return;
  const button = table.loadMore;
  button.disabled = true;
  button.textContent = 'Loading…';
  try {
    const page = await api.list({ ...toolbar.query(), limit: PAGE_SIZE, cursor: state.nextCursor });
    const known = new Set(state.keys.map((key) => key.id));
    state.keys = [...state.keys, ...page.data.filter((key) => !known.has(key.id))];
    state.nextCursor = page.nextCursor;
    render();
    announce(`${page.data.length} more keys shown.`);
  } catch (error) {
    showError(alertBox, error, {}, signInAgain(error));
  } finally {
    button.disabled = false;
    button.textContent = 'Load more keys';
  }
});

function render() {
  const ids = new Set(state.keys.map((key) => key.id));
  for (const id of state.revealed) if (!ids.has(id)) state.revealed.delete(id);
  const order = toolbar.sort();
  table.setRows(
    orderKeys(state.keys, (heads) => sortKeys(heads, order)).map(({ key, successor }) =>
      keyRow(key, successor, rowActions),
    ),
  );
  table.setSort(order);
  table.setState(
    state.keys.length > 0
      ? ''
      : toolbar.filtered()
        ? 'No keys match these filters.'
        : 'No API keys yet. Create one with “New API key”.',
  );
  table.setMore(state.nextCursor !== null);
  const expiring = expiryNotice(state.keys);
  notice.hidden = expiring === null;
  replaceChildren(notice, expiring);
}

/** Focus on the "…" button of a key, or on "New API key" when the key is gone. @param {string} id */
function focusKey(id) {
  const row = [...table.rows.rows].find((r) => r.dataset.keyId === id);
  const button = row?.querySelector('button[aria-haspopup="menu"]');
  (button instanceof HTMLButtonElement ? button : newKeyButton).focus();
}

/** @param {string} text @param {HTMLButtonElement} button */
async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
    announce('Copied to the clipboard.');
  } catch {
    announce('The key could not be copied. Select it and copy it yourself.');
  }
}

// ---- Dialogs -----------------------------------------------------------------------------------------

const tokenDialog = createTokenDialog({ onClosed: (key) => focusKey(key.id) });

const createDialog = createCreateDialog({
  api,
  catalog: () => state.catalog,
  onCreated: async (key, token) => {
    tokenDialog.open(key, token, null);
    announce(`Key ${key.name} created.`);
    await refresh();
  },
});

const confirmDialog = createConfirmDialog({
  onStale: refresh,
  errorAction: signInAgain,
  onDismissed: (key) => focusKey(key.id),
});

const editDialog = createEditDialog({
  api,
  catalog: () => state.catalog,
  onSaved: async (key) => {
    announce(`Key ${key.name} saved.`);
    await refresh();
    focusKey(key.id);
  },
  onStale: () => void refresh(),
  onClosed: (key) => {
    if (!editDialog.saved) focusKey(key.id);
  },
});

const dialogs = [createDialog, tokenDialog, confirmDialog, editDialog];
document.body.append(...dialogs.map((dialog) => dialog.element));

/** @type {import('./confirmations.js').ActionDeps} */
const actionDeps = {
  api,
  refresh,
  announce,
  showToken: (key, token, previous) => tokenDialog.open(key, token, previous),
  focusKey,
  keys: () => state.keys,
};

/** @type {import('./key-rows.js').RowActions} */
const rowActions = {
  isRevealed: (key) => state.revealed.has(key.id),
  onReveal: (key, revealed) => {
    if (revealed) state.revealed.add(key.id);
    else state.revealed.delete(key.id);
  },
  onCopy: (text, button) => void copy(text, button),
  onRoll: (key) => confirmDialog.open(rollConfirmation(key, actionDeps)),
  onEdit: (key) => editDialog.open(key),
  onToggleDisabled: (key) => confirmDialog.open(toggleConfirmation(key, actionDeps)),
  onHistory: (key) => void activity.showKey(key),
  onDelete: (key) => confirmDialog.open(deleteConfirmation(key, actionDeps)),
};

newKeyButton.addEventListener('click', () => createDialog.open());

// ---- Start -------------------------------------------------------------------------------------------

// Relative times ("in 11 hours") stay true while the page is open; the list is reloaded when the page
// comes back into view.
setInterval(() => refreshRelativeTimes(document), 30_000);
document.addEventListener('visibilitychange', () => {
  const busy = dialogs.some((dialog) => dialog.element.open);
  if (document.visibilityState === 'visible' && !busy && !newKeyButton.disabled) void refresh();
});

load().catch((error) => showError(alertBox, asApiError(error)));
