// The API keys page: loads the keys and the scope catalog from the admin API, renders the table and
// runs the dialogs (new key, token shown once, confirmations).

import { createApi } from './api.js';
import { withBusy } from './busy.js';
import { byId, h, replaceChildren } from './dom.js';
import { createEditDialog } from './edit-dialog.js';
import { expiryField } from './expiry.js';
import { announce, asApiError, clearError, setupDialog, showError, showMessage } from './feedback.js';
import { refreshRelativeTimes, relativeTime, shortDateTime } from './format.js';
import { isDefault, keyRow, orderKeys } from './key-rows.js';
import { scopeChoices } from './scope-choices.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

const DEFAULT_GRACE_PERIOD = 43_200;
/** @type {Array<[number, string]>} */
const GRACE_PERIODS = [
  [0, 'No time: it stops working now'],
  [3_600, '1 hour'],
  [DEFAULT_GRACE_PERIOD, '12 hours'],
  [86_400, '1 day'],
  [259_200, '3 days'],
  [604_800, '7 days'],
];

const root = byId('kw-dashboard', HTMLElement);
const api = createApi(root.dataset.apiUrl ?? '');
const rows = byId('kw-rows', HTMLTableSectionElement);
const tableState = byId('kw-table-state', HTMLParagraphElement);
const alertBox = byId('kw-alert', HTMLDivElement);
const announcer = byId('kw-announcer', HTMLParagraphElement);
const newKeyButton = byId('kw-new-key', HTMLButtonElement);
const filters = byId('kw-filters', HTMLFormElement);
const searchInput = byId('kw-search', HTMLInputElement);
const typeFilter = byId('kw-filter-type', HTMLSelectElement);
const statusFilter = byId('kw-filter-status', HTMLSelectElement);
const paging = byId('kw-paging', HTMLDivElement);
const loadMoreButton = byId('kw-load-more', HTMLButtonElement);
/** Keys per page of the admin API. */
const PAGE_SIZE = 50;

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

/** The filters of the toolbar, as the admin API's query. */
function query() {
  return { q: searchInput.value.trim(), type: typeFilter.value, status: statusFilter.value };
}

/**
 * Reads the first page again, as many keys as are shown now (at most 100), with the current filters.
 * @returns {Promise<void>}
 */
async function readFirstPage() {
  const limit = Math.min(100, Math.max(PAGE_SIZE, state.keys.length));
  const page = await api.list({ ...query(), limit });
  state.keys = page.data;
  state.nextCursor = page.nextCursor;
}

// ---- Loading and rendering -------------------------------------------------------------------------

async function load() {
  tableState.textContent = 'Loading keys…';
  tableState.hidden = false;
  const [keys, catalog] = await Promise.allSettled([
    api.list({ ...query(), limit: PAGE_SIZE }),
    api.scopes(),
  ]);
  // Without the catalog the form leaves scopes out: the server then gives the key every scope it may hold.
  if (catalog.status === 'fulfilled') state.catalog = catalog.value;
  if (keys.status === 'rejected') {
    tableState.textContent = 'The keys could not be loaded.';
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
}

/** Reloads the list; a failure is shown above the table. */
async function refresh() {
  try {
    await readFirstPage();
    clearError(alertBox);
    render();
  } catch (error) {
    showError(alertBox, error, {}, signInAgain(error));
  }
}

/** A "Sign in again" link when the session has ended (reloading lets the app ask for a sign-in). @param {unknown} error */
function signInAgain(error) {
  return /** @type {{ status?: number }} */ (error)?.status === 401
    ? h('a', { class: 'kw-signin', href: window.location.href }, 'Sign in again')
    : null;
}

/** The filters changed: the list starts again from the first page. */
let filterTimer = 0;
function onFiltersChanged() {
  window.clearTimeout(filterTimer);
  filterTimer = window.setTimeout(() => {
    state.keys = [];
    void refresh();
  }, 250);
}
filters.addEventListener('input', onFiltersChanged);
filters.addEventListener('submit', (event) => {
  event.preventDefault();
  onFiltersChanged();
});

loadMoreButton.addEventListener('click', async () => {
  if (!state.nextCursor) return;
  loadMoreButton.disabled = true;
  loadMoreButton.textContent = 'Loading…';
  try {
    const page = await api.list({ ...query(), limit: PAGE_SIZE, cursor: state.nextCursor });
    const known = new Set(state.keys.map((key) => key.id));
    state.keys = [...state.keys, ...page.data.filter((key) => !known.has(key.id))];
    state.nextCursor = page.nextCursor;
    render();
    announce(announcer, `${page.data.length} more keys shown.`);
  } catch (error) {
    showError(alertBox, error, {}, signInAgain(error));
  } finally {
    loadMoreButton.disabled = false;
    loadMoreButton.textContent = 'Load more keys';
  }
});

function render() {
  const ids = new Set(state.keys.map((key) => key.id));
  for (const id of state.revealed) if (!ids.has(id)) state.revealed.delete(id);
  replaceChildren(
    rows,
    orderKeys(state.keys).map(({ key, successor }) => keyRow(key, successor, rowActions)),
  );
  const filtered = query().q !== '' || query().type !== '' || query().status !== '';
  tableState.textContent =
    state.keys.length > 0
      ? ''
      : filtered
        ? 'No keys match these filters.'
        : 'No API keys yet. Create one with “New API key”.';
  tableState.hidden = state.keys.length > 0;
  paging.hidden = state.nextCursor === null;
}

/** Focus on the "…" button of a key, or on "New API key" when the key is gone. @param {string} id */
function focusKey(id) {
  const row = [...rows.rows].find((r) => r.dataset.keyId === id);
  const button = row?.querySelector('button[aria-haspopup="menu"]');
  (button instanceof HTMLButtonElement ? button : newKeyButton).focus();
}

/** @type {import('./key-rows.js').RowActions} */
const rowActions = {
  isRevealed: (key) => state.revealed.has(key.id),
  onReveal: (key, revealed) => {
    if (revealed) state.revealed.add(key.id);
    else state.revealed.delete(key.id);
  },
  onCopy: (text, button) => void copy(text, button),
  onRoll: (key) => confirmRoll(key),
  onEdit: (key) => editDialog.open(key),
  onToggleDisabled: (key) => confirmToggleDisabled(key),
  onDelete: (key) => confirmDelete(key),
};

/** @param {string} text @param {HTMLButtonElement} button */
async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => {
      button.textContent = label;
    }, 1500);
    announce(announcer, 'Copied to the clipboard.');
  } catch {
    announce(announcer, 'The key could not be copied. Select it and copy it yourself.');
  }
}

// ---- New key ---------------------------------------------------------------------------------------

const createDialog = byId('kw-create-dialog', HTMLDialogElement);
const createForm = byId('kw-create-form', HTMLFormElement);
const createError = byId('kw-create-error', HTMLDivElement);
const nameInput = byId('kw-create-name', HTMLInputElement);
const createExpiry = expiryField('kw-create', { keyType: () => selectedType() });
byId('kw-create-expiry', HTMLDivElement).replaceWith(createExpiry.element);
const scopeFieldset = byId('kw-create-scopes', HTMLFieldSetElement);
const scopeList = byId('kw-create-scope-list', HTMLDivElement);
const scopeHint = byId('kw-create-scopes-hint', HTMLParagraphElement);
const createFields = {
  name: nameInput,
  get expiresAt() {
    return createExpiry.input;
  },
  scopes: scopeFieldset,
};
/** Scopes the user unchecked in this form: switching the type back and forth keeps them unchecked. */
const uncheckedScopes = new Set();
scopeList.addEventListener('change', (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.name !== 'scopes') return;
  if (box.checked) uncheckedScopes.delete(box.value);
  else uncheckedScopes.add(box.value);
});
// An error goes away as soon as the user starts fixing it.
nameInput.addEventListener('input', () => {
  if (nameInput.getAttribute('aria-invalid') === 'true') clearError(createError, createFields);
});
let creating = false;
setupDialog(createDialog, () => creating);

function selectedType() {
  const checked = createForm.querySelector('input[name="type"]:checked');
  return checked instanceof HTMLInputElement && checked.value === 'public' ? 'public' : 'secret';
}

/** The scope checkboxes for a key type: every scope of the catalog, those over the public ceiling off. */
function renderScopes() {
  const catalog = state.catalog;
  scopeFieldset.hidden = catalog === null;
  if (!catalog) return;
  const type = selectedType();
  replaceChildren(
    scopeList,
    scopeChoices(catalog, type, (scope) => !uncheckedScopes.has(scope)),
  );
  const ceiling = catalog.publicScopes;
  scopeHint.textContent =
    type === 'secret'
      ? 'Secret keys can hold any scope.'
      : ceiling.length > 0
        ? `Public keys can only hold ${ceiling.join(', ')}.`
        : 'Public keys cannot hold any scope.';
}

function openCreateDialog() {
  createForm.reset();
  clearError(createError, createFields);
  uncheckedScopes.clear();
  createExpiry.reset();
  renderScopes();
  createDialog.showModal();
  nameInput.focus();
}

for (const radio of createForm.querySelectorAll('input[name="type"]')) {
  radio.addEventListener('change', () => {
    renderScopes();
    createExpiry.update();
  });
}

createForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (creating) return;
  clearError(createError, createFields);
  const name = nameInput.value.trim();
  if (name === '') {
    showMessage(createError, 'Give the key a name.', nameInput);
    return;
  }
  /** @type {{ name: string, type: string, scopes?: string[], expiresAt?: string }} */
  const input = { name, type: selectedType() };
  if (state.catalog) {
    input.scopes = [...scopeList.querySelectorAll('input[name="scopes"]:checked:not(:disabled)')].map(
      (box) => /** @type {HTMLInputElement} */ (box).value,
    );
  }
  const expiry = createExpiry.value();
  if (!expiry.ok) {
    showMessage(createError, expiry.message, createExpiry.input);
    return;
  }
  if (expiry.value) input.expiresAt = expiry.value;
  creating = true;
  try {
    const { data, token } = await withBusy(createForm, () => api.create(input));
    creating = false;
    createDialog.close();
    showToken(data, token, null);
    announce(announcer, `Key ${data.name} created.`);
    await refresh();
  } catch (error) {
    showError(createError, error, createFields);
  } finally {
    creating = false;
  }
});

newKeyButton.addEventListener('click', openCreateDialog);

// ---- The token, shown once ---------------------------------------------------------------------------

const tokenDialog = byId('kw-token-dialog', HTMLDialogElement);
const tokenTitle = byId('kw-token-title', HTMLHeadingElement);
const tokenNote = byId('kw-token-note', HTMLParagraphElement);
const tokenInput = byId('kw-token-value', HTMLInputElement);
const tokenCopy = byId('kw-token-copy', HTMLButtonElement);
const tokenCopyStatus = byId('kw-token-copy-status', HTMLParagraphElement);
const tokenExtra = byId('kw-token-extra', HTMLParagraphElement);
/** The key whose "…" button gets the focus back. */
let tokenKeyId = '';
setupDialog(tokenDialog);

/**
 * @param {Key} key
 * @param {string} token
 * @param {Key | null} previous the rolled key, after a roll
 */
function showToken(key, token, previous) {
  tokenKeyId = key.id;
  tokenTitle.textContent = previous ? 'Your new key (rolled)' : 'Your new API key';
  tokenNote.textContent =
    key.type === 'secret'
      ? 'Copy this secret key now and keep it somewhere safe, such as a secrets manager. It will not be shown again.'
      : 'This public key can be published (in a web page or an app) and shown again from the table.';
  tokenNote.classList.toggle('kw-callout-warning', key.type === 'secret');
  tokenInput.value = token;
  tokenCopyStatus.textContent = '';
  replaceChildren(tokenExtra, ...tokenDetails(key, previous));
  tokenDialog.showModal();
  tokenCopy.focus();
}

/** @param {Key} key @param {Key | null} previous */
function tokenDetails(key, previous) {
  if (previous?.expiresAt) {
    const end = Date.parse(previous.expiresAt);
    if (end <= Date.now() + 1000) return ['The old key no longer works.'];
    return [
      'The old key keeps working until ',
      h(
        'time',
        { datetime: previous.expiresAt, title: shortDateTime(previous.expiresAt) },
        shortDateTime(previous.expiresAt),
      ),
      ` (${relativeTime(end)}). Deploy the new key before then.`,
    ];
  }
  if (key.expiresAt) {
    return ['It expires on ', h('time', { datetime: key.expiresAt }, shortDateTime(key.expiresAt)), '.'];
  }
  return [];
}

tokenCopy.addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(tokenInput.value);
    tokenCopyStatus.textContent = 'Copied to the clipboard.';
  } catch {
    tokenInput.select();
    tokenCopyStatus.textContent = 'Copying did not work: the key is selected, copy it with Ctrl+C (⌘C).';
  }
});

tokenDialog.addEventListener('close', () => {
  // The token is gone from the page once the dialog is closed.
  tokenInput.value = '';
  tokenCopyStatus.textContent = '';
  replaceChildren(tokenExtra);
  focusKey(tokenKeyId);
});

// ---- Confirmations -----------------------------------------------------------------------------------

const confirmDialog = byId('kw-confirm-dialog', HTMLDialogElement);
const confirmForm = byId('kw-confirm-form', HTMLFormElement);
const confirmTitle = byId('kw-confirm-title', HTMLHeadingElement);
const confirmMessage = byId('kw-confirm-message', HTMLParagraphElement);
const confirmExtra = byId('kw-confirm-extra', HTMLDivElement);
const confirmError = byId('kw-confirm-error', HTMLDivElement);
const confirmOk = byId('kw-confirm-ok', HTMLButtonElement);
const confirmCancel = /** @type {HTMLButtonElement} */ (confirmForm.querySelector('[data-close]'));

/**
 * @typedef {{
 *   key: Key, title: string, message: Array<string | Node>, confirmLabel: string, danger: boolean,
 *   extra?: Node, run: () => Promise<() => void>
 * }} Confirmation
 */

/** @type {Confirmation | null} */
let pending = null;
let confirming = false;
let confirmed = false;
setupDialog(confirmDialog, () => confirming);

/** @param {Confirmation} confirmation */
function askToConfirm(confirmation) {
  pending = confirmation;
  confirmed = false;
  confirmTitle.textContent = confirmation.title;
  replaceChildren(confirmMessage, ...confirmation.message);
  replaceChildren(confirmExtra, confirmation.extra ?? null);
  clearError(confirmError);
  confirmOk.textContent = confirmation.confirmLabel;
  confirmOk.disabled = false;
  confirmOk.className = `kw-button ${confirmation.danger ? 'kw-danger' : 'kw-primary'}`;
  confirmDialog.showModal();
  // The safe choice has the focus.
  confirmCancel.focus();
}

confirmForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!pending || confirming) return;
  confirming = true;
  let stale = false;
  try {
    const run = pending.run;
    const after = await withBusy(confirmForm, () => run());
    confirmed = true;
    confirming = false;
    confirmDialog.close();
    after();
  } catch (error) {
    showError(confirmError, error, {}, signInAgain(error));
    const status = /** @type {{ status?: number }} */ (error).status;
    stale = status === 404 || status === 409;
  } finally {
    confirming = false;
  }
  if (stale) {
    // Someone else changed or deleted the key: show the list as it is now, and do not offer the action again.
    confirmOk.disabled = true;
    await refresh();
  }
});

confirmDialog.addEventListener('close', () => {
  if (!confirmed && pending) focusKey(pending.key.id);
  replaceChildren(confirmExtra);
});

/** "Deploy bot" (kw_sk_…AbCd) @param {Key} key */
function keyLabel(key) {
  return [h('strong', {}, key.name), ' (', h('code', { class: 'kw-key' }, key.redactedKey), ')'];
}

/** @param {Key} key */
function confirmRoll(key) {
  const select = h(
    'select',
    {
      class: 'kw-input',
      id: 'kw-grace-period',
      name: 'gracePeriodSeconds',
      'aria-describedby': 'kw-grace-hint',
    },
    GRACE_PERIODS.map(([seconds, label]) =>
      h('option', { value: String(seconds), selected: seconds === DEFAULT_GRACE_PERIOD }, label),
    ),
  );
  askToConfirm({
    key,
    title: 'Roll this key?',
    message: [
      'A new key replaces ',
      ...keyLabel(key),
      ', with the same name, scopes and expiration. The new key is shown once.',
    ],
    extra: h(
      'div',
      { class: 'kw-field' },
      h('label', { class: 'kw-label', for: 'kw-grace-period' }, 'Keep the old key working for'),
      select,
      h(
        'p',
        { class: 'kw-hint', id: 'kw-grace-hint' },
        'Time to deploy the new key. The old key never works past its own expiration date.',
      ),
    ),
    confirmLabel: 'Roll key',
    danger: false,
    run: async () => {
      const { data, token, previous } = await api.roll(key.id, Number(select.value));
      await refresh();
      announce(announcer, `Key ${key.name} rolled.`);
      return () => showToken(data, token, previous);
    },
  });
}

/** @param {Key} key */
function confirmToggleDisabled(key) {
  const enable = key.disabled;
  askToConfirm({
    key,
    title: enable ? 'Enable this key?' : 'Disable this key?',
    message: enable
      ? [...keyLabel(key), ' will authenticate requests again (unless it has expired).']
      : ['Requests with ', ...keyLabel(key), ' are refused at once, until you enable the key again.'],
    confirmLabel: enable ? 'Enable key' : 'Disable key',
    danger: !enable,
    run: async () => {
      await api.update(key.id, { disabled: !enable });
      await refresh();
      announce(announcer, `Key ${key.name} ${enable ? 'enabled' : 'disabled'}.`);
      return () => focusKey(key.id);
    },
  });
}

/** @param {Key} key */
function confirmDelete(key) {
  const warnings = [];
  if (isDefault(key)) {
    warnings.push(
      h(
        'p',
        { class: 'kw-warning' },
        'This is the organization’s Default key. Apps that use it stop working, and no new Default key is created.',
      ),
    );
  }
  for (const predecessor of state.keys.filter((k) => k.replacedBy === key.id && k.status === 'rolled')) {
    warnings.push(
      h(
        'p',
        { class: 'kw-warning' },
        'This key replaced ',
        h('code', { class: 'kw-key' }, predecessor.redactedKey),
        ', which still works until ',
        h(
          'time',
          { datetime: predecessor.expiresAt ?? '' },
          predecessor.expiresAt ? shortDateTime(predecessor.expiresAt) : '',
        ),
        '. Deleting this key leaves that one without a replacement; delete or keep it too.',
      ),
    );
  }
  askToConfirm({
    key,
    title: 'Delete this key?',
    message: ['Requests with ', ...keyLabel(key), ' are refused at once. This cannot be undone.'],
    ...(warnings.length > 0 && { extra: h('div', {}, warnings) }),
    confirmLabel: 'Delete key',
    danger: true,
    run: async () => {
      await api.remove(key.id);
      await refresh();
      announce(announcer, `Key ${key.name} deleted.`);
      return () => focusKey(key.id);
    },
  });
}

// ---- Edit ------------------------------------------------------------------------------------------

const editDialog = createEditDialog({
  api,
  catalog: () => state.catalog,
  onSaved: async (key) => {
    announce(announcer, `Key ${key.name} saved.`);
    await refresh();
    focusKey(key.id);
  },
  onStale: () => void refresh(),
  onClosed: (key) => {
    if (!editDialog.saved) focusKey(key.id);
  },
});
document.body.append(editDialog.element);

// ---- Start -------------------------------------------------------------------------------------------

// Relative times ("in 11 hours") stay true while the page is open; the list is reloaded when the page
// comes back into view.
setInterval(() => refreshRelativeTimes(document), 30_000);
document.addEventListener('visibilitychange', () => {
  const busy = createDialog.open || tokenDialog.open || confirmDialog.open || editDialog.element.open;
  if (document.visibilityState === 'visible' && !busy && !newKeyButton.disabled) void refresh();
});

load().catch((error) => showError(alertBox, asApiError(error)));
