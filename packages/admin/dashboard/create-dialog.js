// The "New API key" dialog: name, type, scopes and expiry. Builds its own <dialog>; `open()` shows it with
// a fresh form, and a created key goes to `onCreated` with its token.

import { withBusy } from './busy.js';
import { h, replaceChildren } from './dom.js';
import { asApiError, clearError, formActions, setupDialog, showError, showMessage } from './feedback.js';
import { keyFormFields } from './key-form.js';
import { scopeChoices } from './scope-choices.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/**
 * @param {{
 *   api: import('./api.js').Api,
 *   errorAction?: (error: unknown) => HTMLElement | null,
 *   catalog: () => ScopeCatalog | null,
 *   onCreated: (key: Key, token: string) => Promise<void> | void,
 * }} deps
 * @returns {{ element: HTMLDialogElement, open: () => void }}
 */
export function createCreateDialog({ api, errorAction = () => null, catalog, onCreated }) {
  let busy = false;
  /** Scopes the user unchecked in this form: switching the type back and forth keeps them unchecked. */
  const uncheckedScopes = new Set();

  /** @param {'secret' | 'public'} value @param {string} label @param {string} hint */
  const typeChoice = (value, label, hint) =>
    h(
      'label',
      { class: 'kw-choice' },
      h('input', { type: 'radio', name: 'type', value, checked: value === 'secret' }),
      h('span', {}, h('strong', {}, label), h('span', { class: 'kw-hint' }, hint)),
    );
  const { name, scopeList, scopeHint, scopes, expiry, policies, error, fields } = keyFormFields('kw-create', {
    keyType: () => selectedType(),
    defaultsHint: 'No limit set: the key gets the app’s default limits for its type, if it has any.',
    nameHintId: 'kw-create-name-hint',
  });
  const title = h('h2', { class: 'kw-dialog-title', id: 'kw-create-title' }, 'New API key');
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'kw-form', novalidate: true },
      title,
      h(
        'div',
        { class: 'kw-field' },
        h('label', { class: 'kw-label', for: name.id }, 'Name'),
        name,
        h(
          'p',
          { class: 'kw-hint', id: 'kw-create-name-hint' },
          'Something that tells you where the key is used, e.g. “Production server”.',
        ),
      ),
      h(
        'fieldset',
        { class: 'kw-field kw-fieldset' },
        h('legend', { class: 'kw-label' }, 'Type'),
        h(
          'div',
          { class: 'kw-choices' },
          typeChoice('secret', 'Secret key', 'For servers. Shown once; never publish it.'),
          typeChoice('public', 'Public key', 'For browsers and mobile apps. Can be shown again.'),
        ),
      ),
      scopes,
      expiry.element,
      policies.element,
      error,
      formActions('Create key', 'Creating…'),
    )
  );
  const element = /** @type {HTMLDialogElement} */ (
    h('dialog', { class: 'kw-dialog', id: 'kw-create-dialog', 'aria-labelledby': title.id }, form)
  );
  setupDialog(element, () => busy);

  function selectedType() {
    const checked = form.querySelector('input[name="type"]:checked');
    return checked instanceof HTMLInputElement && checked.value === 'public' ? 'public' : 'secret';
  }

  /** The scope checkboxes for the chosen type: every scope of the catalog, those over the ceiling off. */
  function renderScopes() {
    const list = catalog();
    scopes.hidden = list === null;
    if (!list) return;
    const type = selectedType();
    replaceChildren(
      scopeList,
      scopeChoices(
        list,
        type,
        // A new key starts with every scope it can be given here (the "All" preset).
        (scope) => !uncheckedScopes.has(scope) && (list.grantableScopes ?? list.scopes).includes(scope),
        'kw-create-scopes',
      ),
    );
    const ceiling = list.publicScopes;
    scopeHint.textContent =
      type === 'secret'
        ? 'Secret keys can hold any scope.'
        : ceiling.length > 0
          ? `Public keys can only hold ${ceiling.join(', ')}.`
          : 'Public keys cannot hold any scope.';
  }

  scopeList.addEventListener('change', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== 'scopes') return;
    if (box.checked) uncheckedScopes.delete(box.value);
    else uncheckedScopes.add(box.value);
  });
  // An error goes away as soon as the user starts fixing it.
  name.addEventListener('input', () => {
    if (name.getAttribute('aria-invalid') === 'true') clearError(error, fields);
  });
  for (const radio of form.querySelectorAll('input[name="type"]')) {
    radio.addEventListener('change', () => {
      renderScopes();
      expiry.update();
      policies.update();
    });
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    clearError(error, fields);
    policies.clear();
    const trimmed = name.value.trim();
    if (trimmed === '') {
      showMessage(error, 'Give the key a name.', name);
      return;
    }
    /** @type {Parameters<typeof api.create>[0]} */
    const input = { name: trimmed, type: selectedType() };
    if (catalog()) {
      input.scopes = [...scopeList.querySelectorAll('input[name="scopes"]:checked:not(:disabled)')].map(
        (box) => /** @type {HTMLInputElement} */ (box).value,
      );
    }
    const when = expiry.value();
    if (!when.ok) {
      showMessage(error, when.message, expiry.input);
      return;
    }
    if (when.value) input.expiresAt = when.value;
    // Empty lists are left out: the app's defaults (limits) and "any" (origins, addresses) apply.
    const { limits, allowedOrigins, allowedIps } = policies.value();
    if (limits.length > 0) input.limits = limits;
    if (allowedOrigins.length > 0) input.allowedOrigins = allowedOrigins;
    if (allowedIps.length > 0) input.allowedIps = allowedIps;
    busy = true;
    try {
      const { data, token } = await withBusy(form, () => api.create(input));
      busy = false;
      element.close();
      await onCreated(data, token);
    } catch (failure) {
      showError(error, failure, fields, errorAction(failure));
      policies.showDetails(asApiError(failure).details);
    } finally {
      busy = false;
    }
  });

  return {
    element,
    open() {
      form.reset();
      clearError(error, fields);
      uncheckedScopes.clear();
      expiry.reset();
      policies.reset();
      renderScopes();
      element.showModal();
      name.focus();
    },
  };
}
