// The API keys dashboard: builds the toolbar, the table, the Activity panel and the dialogs into a root
// element that holds the page frame (its `.kw-header`), loads the keys and the scope catalog from the admin
// API, and wires the "…" menu's actions to the dialogs. `main.js` mounts it on the standalone page,
// `element.js` inside the <keyward-api-keys> element an app puts in its own pages.

import { createActivityPanel } from './activity-panel.js';
import { createApi } from './api.js';
import { createConfirmDialog } from './confirm-dialog.js';
import { deleteConfirmation, rollConfirmation, toggleConfirmation } from './confirmations.js';
import { createCreateDialog } from './create-dialog.js';
import { h, replaceChildren } from './dom.js';
import { createEditDialog } from './edit-dialog.js';
import { expiryNotice } from './expiry-notice.js';
import { announce as announceIn, asApiError, clearError, showError } from './feedback.js';
import { refreshRelativeTimes } from './format.js';
import { keyRow, orderKeys } from './key-rows.js';
import { createKeyTable } from './key-table.js';
import { sortKeys } from './sort.js';
import { createSparklines } from './sparklines.js';
import { createTokenDialog } from './token-dialog.js';
import { createToolbar } from './toolbar.js';
import { createUsagePanel } from './usage-panel.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/** Keys per page of the admin API. */
const PAGE_SIZE = 50;

/**
 * What the host (the standalone page or the element) tells the dashboard.
 *
 * @typedef {{
 *   apiUrl: string,
 *   auth?: () => import('./api.js').ApiAuth,
 *   signIn?: () => { href?: string, onClick?: () => void } | null,
 *   dialogParent?: HTMLElement,
 *   callApi?: () => import('./token-dialog.js').CallApi | null,
 *   organizationName?: string,
 *   describeActor?: (actor: { type: string, id: string }) => string | null | undefined,
 *   signOut?: { href?: string, onClick?: () => void } | null,
 * }} DashboardHost
 * `apiUrl`: the admin API's path, without a trailing slash; `auth`: how requests are authenticated (read at
 * each request); `signIn`: what "Sign in again" does after a 401 (a link, or a function of the app), or
 * `null` for no such control; `dialogParent`: where the <dialog>s go (default `root`); `callApi`: the
 * app's API base URL and header, for the "Call the API" part of the new key's dialog; `organizationName`
 * and `signOut` (a URL the sign-out form posts to, or a function of the app): shown in the header;
 * `describeActor`: the app's display name for the actor of an event (Activity), e.g. its user's name.
 */

/**
 * Builds the dashboard into `root` and starts loading. Returns `reload`, which reads the keys, the scope
 * catalog and the activity again (e.g. after the app set a token).
 *
 * @param {HTMLElement} root
 * @param {DashboardHost} host
 * @returns {{ reload: () => Promise<void> }}
 */
export function mountDashboard(root, host) {
  const api = createApi(host.apiUrl, host.auth);

  const state = {
    /** @type {Key[]} */
    keys: [],
    /** @type {ScopeCatalog | null} */
    catalog: null,
    /** Public keys shown in full. @type {Set<string>} */
    revealed: new Set(),
    /** Where the next page starts; `null` when every key is shown. @type {string | null} */
    nextCursor: null,
    /** Keys outside the lifetime policy: id → reason. @type {Map<string, string>} */
    nonCompliant: new Map(),
  };

  /** Reads the keys outside the lifetime policy again; a failure leaves the flags as they were. */
  async function readNonCompliant() {
    try {
      state.nonCompliant = await api.nonCompliant();
    } catch {
      // The list still works; the flags come back with the next reload.
    }
  }

  // ---- The page ----------------------------------------------------------------------------------------

  const newKeyButton = h(
    'button',
    { type: 'button', class: 'kw-button kw-primary', id: 'kw-new-key', disabled: true },
    'New API key',
  );
  const alertBox = h('div', { class: 'kw-alert', id: 'kw-alert', role: 'alert', tabindex: '-1' });
  const announcer = h('p', {
    class: 'kw-visually-hidden',
    id: 'kw-announcer',
    role: 'status',
    'aria-live': 'polite',
  });
  const toolbar = createToolbar({
    onFilter: () => {
      state.keys = [];
      void refresh({ announceCount: true });
    },
    onSort: () => {
      render();
      announce('Keys sorted.');
    },
  });
  const table = createKeyTable();
  const stickyBar = h('div', { class: 'kw-sticky' }, toolbar.element);
  const notice = h('p', { class: 'kw-notice', id: 'kw-expiry-notice', hidden: true });
  // Sorting and the expiry notice work on the keys loaded so far: said as long as not every key is.
  const listScope = h('p', { class: 'kw-hint kw-list-scope', id: 'kw-list-scope', hidden: true });
  const activity = createActivityPanel({
    api,
    keys: () => state.keys,
    describeActor: (actor) => host.describeActor?.(actor) ?? null,
  });
  const usage = createUsagePanel({ api, keys: () => state.keys });
  const sparklines = createSparklines({ api });
  (root.querySelector('.kw-header') ?? root).append(newKeyButton);
  const account = accountLine(host);
  if (account) root.querySelector('.kw-header > div')?.prepend(account);
  root
    .querySelector('.kw-header')
    ?.after(
      alertBox,
      announcer,
      notice,
      stickyBar,
      listScope,
      table.element,
      usage.element,
      activity.element,
    );

  /** @param {string} text */
  const announce = (text) => announceIn(announcer, text);

  // The table header sticks below the toolbar: it needs the toolbar's height, which changes with the width.
  // The page scrolls a focused row out from under them too (scroll-padding-top in the stylesheet).
  new ResizeObserver(() => {
    document.documentElement.style.setProperty('--kw-sticky-height', `${stickyBar.offsetHeight}px`);
  }).observe(stickyBar);

  // ---- Loading and rendering -------------------------------------------------------------------------

  /**
   * Reads the list again from the start, as many keys as are shown now (at least one page), in pages of
   * 100 (the API's largest): after an action on row 201 of 251 every loaded row is still there, so the
   * scroll position and the focus on that row stay.
   * @returns {Promise<{ keys: Key[], nextCursor: string | null }>}
   */
  async function readLoaded() {
    const wanted = Math.max(PAGE_SIZE, state.keys.length);
    const query = toolbar.query();
    /** @type {Key[]} */
    let keys = [];
    /** @type {string | null} */
    let cursor = null;
    do {
      const page = await api.list({ ...query, limit: Math.min(100, wanted - keys.length), cursor });
      const known = new Set(keys.map((key) => key.id));
      keys = [...keys, ...page.data.filter((key) => !known.has(key.id))];
      cursor = page.nextCursor;
    } while (cursor !== null && keys.length < wanted);
    return { keys, nextCursor: cursor };
  }

  /**
   * Each read of the list gets a number; the answer to an older one is dropped (typing "Al", then "Alp":
   * the "Al" answer may arrive last).
   */
  let listGeneration = 0;
  /** The latest refresh: one that is overtaken waits for it, so its caller sees the current list. */
  let latestRefresh = Promise.resolve();

  async function load() {
    table.setState('Loading keys…');
    const [keys, catalog] = await Promise.allSettled([
      api.list({ ...toolbar.query(), limit: PAGE_SIZE }),
      api.scopes(),
      readNonCompliant(),
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
      showError(alertBox, keys.reason, {}, signInAgain(keys.reason) ?? retry);
      return;
    }
    clearError(alertBox);
    newKeyButton.disabled = false;
    state.keys = keys.value.data;
    state.nextCursor = keys.value.nextCursor;
    sparklines.reset();
    render();
    await Promise.all([activity.load(), usage.load()]);
  }

  /**
   * Reloads the list (and the activity); a failure is shown above the table. `announceCount`: say how
   * many keys match (after a search or a filter).
   * @param {{ announceCount?: boolean }} [options]
   */
  function refresh({ announceCount = false } = {}) {
    const run = refreshOnce(announceCount);
    latestRefresh = run;
    return run;
  }

  /** @param {boolean} announceCount */
  async function refreshOnce(announceCount) {
    const mine = ++listGeneration;
    // Busy while the rows are replaced: assistive technology (and tests) wait for the new list.
    table.element.setAttribute('aria-busy', 'true');
    let overtaken = false;
    try {
      const [list] = await Promise.all([readLoaded(), readNonCompliant()]);
      overtaken = mine !== listGeneration;
      if (!overtaken) {
        state.keys = list.keys;
        state.nextCursor = list.nextCursor;
        clearError(alertBox);
        sparklines.reset();
        render();
        if (announceCount) {
          const n = state.keys.length;
          announce(
            n === 0
              ? 'No keys match these filters.'
              : `${n}${state.nextCursor ? ' or more' : ''} ${n === 1 ? 'key' : 'keys'} found.`,
          );
        }
      }
    } catch (error) {
      overtaken = mine !== listGeneration;
      if (!overtaken) showError(alertBox, error, {}, signInAgain(error));
    } finally {
      if (mine === listGeneration) table.element.setAttribute('aria-busy', 'false');
    }
    // A newer read is under way: its answer is the list; wait for it (e.g. to focus a row it shows).
    if (overtaken) {
      await latestRefresh;
      return;
    }
    await Promise.all([activity.refresh(), usage.load()]);
  }

  /** Shows an error above the table and puts the focus on it (so it is read, and the focus is not lost). @param {unknown} error */
  function showPageError(error) {
    showError(alertBox, error, {}, signInAgain(error));
    alertBox.focus();
  }

  /**
   * After a 401: "Sign in again", as the host says (a link, by default to this page, so that the app's
   * sign-in can step in; or a button running the app's function), or nothing.
   * @param {unknown} error
   */
  function signInAgain(error) {
    if (/** @type {{ status?: number }} */ (error)?.status !== 401) return null;
    const how = host.signIn ? host.signIn() : { href: window.location.href };
    if (!how) return null;
    const onClick = how.onClick;
    if (onClick) {
      return h(
        'button',
        { type: 'button', class: 'kw-button kw-small kw-signin', onclick: () => onClick() },
        'Sign in again',
      );
    }
    return h('a', { class: 'kw-signin', href: how.href ?? window.location.href }, 'Sign in again');
  }

  // "Load more keys": the button is never `disabled` while it loads (a disabled button drops the focus to
  // the body); the focus then goes to the first new row, or to the error.
  table.loadMore.addEventListener('click', async () => {
    const button = table.loadMore;
    if (!state.nextCursor || button.getAttribute('aria-disabled') === 'true') return;
    const mine = listGeneration;
    button.setAttribute('aria-disabled', 'true');
    button.textContent = 'Loading…';
    try {
      const page = await api.list({ ...toolbar.query(), limit: PAGE_SIZE, cursor: state.nextCursor });
      if (mine !== listGeneration) return;
      const known = new Set(state.keys.map((key) => key.id));
      const added = page.data.filter((key) => !known.has(key.id));
      state.keys = [...state.keys, ...added];
      state.nextCursor = page.nextCursor;
      render();
      announce(`${added.length} more keys shown.`);
      if (added[0]) focusKey(added[0].id);
    } catch (error) {
      if (mine === listGeneration) showPageError(error);
    } finally {
      button.removeAttribute('aria-disabled');
      button.textContent = 'Load more keys';
    }
  });

  function render() {
    // The focus on a row's "…" button survives the rows being rebuilt (a reload after returning to the tab).
    const focused = document.activeElement;
    const focusedKey =
      focused instanceof HTMLButtonElement &&
      focused.getAttribute('aria-haspopup') === 'menu' &&
      table.rows.contains(focused)
        ? focused.closest('tr')?.dataset.keyId
        : undefined;
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
    if (focusedKey && !table.rows.contains(document.activeElement)) focusKey(focusedKey);
    const partial = state.nextCursor !== null;
    const expiring = expiryNotice(state.keys);
    notice.hidden = expiring === null;
    replaceChildren(
      notice,
      partial && expiring ? `Among the ${state.keys.length} keys loaded: ` : null,
      expiring,
    );
    listScope.hidden = !partial;
    listScope.textContent = partial
      ? `${order === 'newest' ? 'Checked for expiry' : 'Sorted and checked for expiry'} among the ${state.keys.length} keys loaded, not all keys. Load more keys to include the rest.`
      : '';
  }

  /** Focus on the "…" button of a key, or on "New API key" when the key is gone. @param {string} id */
  function focusKey(id) {
    const menuButton = () => {
      const row = [...table.rows.rows].find((r) => r.dataset.keyId === id);
      const button = row?.querySelector('button[aria-haspopup="menu"]');
      return button instanceof HTMLButtonElement ? button : null;
    };
    const button = menuButton();
    if (button) {
      button.focus();
      return;
    }
    // Not shown yet: the token dialog of a new key can be closed (Escape) before the list that has its
    // row arrives. Look again once the list being read is shown.
    void latestRefresh.then(() => (menuButton() ?? newKeyButton).focus());
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

  const tokenDialog = createTokenDialog({
    onClosed: (key) => focusKey(key.id),
    callApi: host.callApi ?? (() => null),
  });

  const createDialog = createCreateDialog({
    api,
    errorAction: signInAgain,
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
    errorAction: signInAgain,
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
  (host.dialogParent ?? root).append(...dialogs.map((dialog) => dialog.element));

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
    onUsage: (key) => void usage.showKey(key),
    usageCell: (key) => sparklines.cell(key),
    lifetimeIssue: (key) => state.nonCompliant.get(key.id) ?? null,
    onDelete: (key) => confirmDialog.open(deleteConfirmation(key, actionDeps)),
  };

  newKeyButton.addEventListener('click', () => createDialog.open());

  // ---- Start -------------------------------------------------------------------------------------------

  // Relative times ("in 11 hours") stay true while the page is open; the list is reloaded when the page
  // comes back into view.
  setInterval(() => refreshRelativeTimes(document), 30_000);
  // The list is reloaded when the tab becomes visible again and when the window regains focus (another
  // window, e.g. a terminal, may have changed keys). A return during a reload asks for one more after it.
  let reloading = false;
  let again = false;
  const reloadOnReturn = async () => {
    // Not while a dialog or a key's "…" menu is open: the reload would replace the rows under it.
    const busy =
      dialogs.some((dialog) => dialog.element.open) ||
      table.rows.querySelector('[role="menu"]:not([hidden])') !== null;
    if (document.visibilityState !== 'visible' || busy || newKeyButton.disabled) return;
    if (reloading) {
      again = true;
      return;
    }
    reloading = true;
    try {
      do {
        again = false;
        await refresh();
      } while (again);
    } finally {
      reloading = false;
    }
  };
  document.addEventListener('visibilitychange', () => void reloadOnReturn());
  // Only a real return: the window lost the focus first (a page gets a focus event when it is first
  // focused, too).
  let away = false;
  window.addEventListener('blur', () => {
    away = true;
  });
  window.addEventListener('focus', () => {
    if (!away) return;
    away = false;
    void reloadOnReturn();
  });

  load().catch((error) => showError(alertBox, asApiError(error)));

  return { reload: () => load() };
}

/**
 * "Organization: Acme · Sign out" above the title, from what the host says, or `null`. Signing out posts a
 * form to the app's URL (a same-origin form: the page's CSP allows it), or runs the app's function.
 * @param {DashboardHost} host
 */
function accountLine({ organizationName, signOut }) {
  if (!organizationName && !signOut) return null;
  /** @type {HTMLElement | null} */
  let control = null;
  if (signOut?.onClick) {
    const run = signOut.onClick;
    control = h('button', { type: 'button', class: 'kw-button kw-small', onclick: () => run() }, 'Sign out');
  } else if (signOut?.href) {
    control = h(
      'form',
      { method: 'post', action: signOut.href },
      h('button', { type: 'submit', class: 'kw-button kw-small' }, 'Sign out'),
    );
  }
  return h(
    'div',
    { class: 'kw-account' },
    organizationName &&
      h('span', { id: 'kw-organization' }, 'Organization: ', h('strong', {}, organizationName)),
    control,
  );
}
