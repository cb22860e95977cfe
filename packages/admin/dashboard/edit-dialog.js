// The Edit dialog: a key's name, scopes, expiry and policies (limits, allowed origins and IPs). Builds its
// own <dialog>; `open(key)` shows it.

import { withBusy } from './busy.js';
import { h, replaceChildren } from './dom.js';
import { asApiError, clearError, formActions, setupDialog, showError, showMessage } from './feedback.js';
import { exactTime } from './format.js';
import { keyFormFields } from './key-form.js';
import { samePolicies } from './policy-fields.js';
import { scopeChoices } from './scope-choices.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').ScopeCatalog} ScopeCatalog */

/**
 * @param {{
 *   api: import('./api.js').Api,
 *   errorAction?: (error: unknown) => HTMLElement | null,
 *   catalog: () => ScopeCatalog | null,
 *   onSaved: (key: Key) => Promise<void> | void,
 *   onStale: () => void,
 *   onClosed: (key: Key) => void,
 * }} deps
 */
export function createEditDialog({ api, errorAction = () => null, catalog, onSaved, onStale, onClosed }) {
  /** @type {Key | null} */
  let current = null;
  let busy = false;
  let saved = false;
  const { name, scopeList, scopeHint, scopes, expiry, policies, error, fields } = keyFormFields('kw-edit', {
    keyType: () => current?.type ?? 'secret',
    keepExpiry: true,
  });
  const currentExpiry = h('p', { class: 'kw-hint', id: 'kw-edit-current-expiry' });
  const title = h('h2', { class: 'kw-dialog-title', id: 'kw-edit-title' }, 'Edit key');
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'kw-form', novalidate: true },
      title,
      h('div', { class: 'kw-field' }, h('label', { class: 'kw-label', for: name.id }, 'Name'), name),
      scopes,
      expiry.element,
      currentExpiry,
      policies.element,
      error,
      formActions('Save changes', 'Saving…'),
    )
  );
  const element = /** @type {HTMLDialogElement} */ (
    h('dialog', { class: 'kw-dialog', id: 'kw-edit-dialog', 'aria-labelledby': title.id }, form)
  );
  setupDialog(element, () => busy);
  name.addEventListener('input', () => clearError(error, fields));

  /** @param {Key} key */
  function renderScopes(key) {
    const list = catalog();
    scopes.hidden = list === null;
    if (!list) return;
    replaceChildren(
      scopeList,
      scopeChoices(list, key.type, (scope) => key.scopes.includes(scope), 'kw-edit-scopes'),
    );
    scopeHint.textContent =
      key.type === 'secret' ? 'Secret keys can hold any scope.' : 'Public keys hold public scopes only.';
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = current;
    if (!key || busy) return;
    clearError(error, fields);
    policies.clear();
    const newName = name.value.trim();
    if (newName === '') {
      showMessage(error, 'Give the key a name.', name);
      return;
    }
    const when = expiry.value();
    if (!when.ok) {
      showMessage(error, when.message, expiry.input);
      return;
    }
    /** @type {Parameters<typeof api.update>[1]} */
    const changes = {};
    if (newName !== key.name) changes.name = newName;
    if (catalog()) {
      const chosen = [...scopeList.querySelectorAll('input[name="scopes"]:checked')].map(
        (box) => /** @type {HTMLInputElement} */ (box).value,
      );
      if (chosen.join(' ') !== [...key.scopes].sort().join(' ') || chosen.length !== key.scopes.length)
        changes.scopes = chosen;
    }
    if (when.value !== undefined) changes.expiresAt = when.value;
    // Only the lists that changed are sent; each replaces the key's whole list (`[]` removes it).
    const chosen = policies.value();
    if (!samePolicies(chosen.limits, key.limits ?? [])) changes.limits = chosen.limits;
    if (key.type === 'public' && !samePolicies(chosen.allowedOrigins, key.allowedOrigins ?? []))
      changes.allowedOrigins = chosen.allowedOrigins;
    if (!samePolicies(chosen.allowedIps, key.allowedIps ?? [])) changes.allowedIps = chosen.allowedIps;
    busy = true;
    let stale = false;
    try {
      const updated = await withBusy(form, () =>
        Object.keys(changes).length === 0 ? Promise.resolve(key) : api.update(key.id, changes, key),
      );
      busy = false;
      saved = true;
      element.close();
      await onSaved(updated);
    } catch (failure) {
      showError(error, failure, fields, errorAction(failure));
      policies.showDetails(asApiError(failure).details);
      const status = /** @type {{ status?: number }} */ (failure).status;
      stale = status === 404 || status === 409 || status === 412;
    } finally {
      busy = false;
    }
    // The key changed or went away meanwhile: not offered again for this key (the next key's dialog
    // offers it again: see open).
    if (stale) {
      onStale();
      submitButton().disabled = true;
    }
  });

  function submitButton() {
    return /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
  }

  element.addEventListener('close', () => {
    if (current) onClosed(current);
  });

  return {
    element,
    /** @param {Key} key */
    open(key) {
      current = key;
      saved = false;
      form.reset();
      submitButton().disabled = false;
      clearError(error, fields);
      name.value = key.name;
      renderScopes(key);
      expiry.reset('keep');
      policies.reset(key);
      currentExpiry.textContent = key.expiresAt
        ? `Now expires on ${exactTime(key.expiresAt)}.`
        : 'Now: never expires.';
      element.showModal();
      name.focus();
    },
    get saved() {
      return saved;
    },
  };
}
