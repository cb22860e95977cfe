// The confirmation dialog of the "…" menu's actions (roll, disable/enable, delete). Builds its own
// <dialog>; `open(confirmation)` asks, and runs `confirmation.run` only when the user confirms.

import { withBusy } from './busy.js';
import { h, replaceChildren } from './dom.js';
import { clearError, setupDialog, showError } from './feedback.js';

/** @typedef {import('./api.js').Key} Key */

/**
 * What to ask and what to do. `run` makes the change and returns what happens after the dialog closes
 * (e.g. showing a new token).
 *
 * @typedef {{
 *   key: Key, title: string, message: Array<string | Node>, confirmLabel: string, danger: boolean,
 *   extra?: Node, run: () => Promise<() => void>
 * }} Confirmation
 */

/**
 * @param {{
 *   onStale: () => Promise<void>,
 *   errorAction: (error: unknown) => HTMLElement | null,
 *   onDismissed: (key: Key) => void,
 * }} deps `onStale`: the key changed or went away meanwhile (404/409), reload the list; `errorAction`: a
 *   link or button shown with an error (e.g. "Sign in again"); `onDismissed`: closed without confirming
 * @returns {{ element: HTMLDialogElement, open: (confirmation: Confirmation) => void }}
 */
export function createConfirmDialog({ onStale, errorAction, onDismissed }) {
  /** @type {Confirmation | null} */
  let pending = null;
  let busy = false;
  let confirmed = false;
  const title = h('h2', { class: 'kw-dialog-title', id: 'kw-confirm-title' }, 'Are you sure?');
  const message = h('p', { class: 'kw-confirm-message', id: 'kw-confirm-message' });
  const extra = h('div', {});
  const error = h('div', { class: 'kw-form-error', role: 'alert' });
  const cancel = h('button', { type: 'button', class: 'kw-button', 'data-close': true }, 'Cancel');
  const ok = h(
    'button',
    { type: 'submit', class: 'kw-button kw-primary', id: 'kw-confirm-ok', 'data-busy-label': 'Working…' },
    'Confirm',
  );
  const form = /** @type {HTMLFormElement} */ (
    h(
      'form',
      { class: 'kw-form', novalidate: true },
      title,
      message,
      extra,
      error,
      h('div', { class: 'kw-dialog-actions' }, cancel, ok),
    )
  );
  const element = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      {
        class: 'kw-dialog kw-dialog-narrow',
        id: 'kw-confirm-dialog',
        'aria-labelledby': title.id,
        'aria-describedby': message.id,
      },
      form,
    )
  );
  setupDialog(element, () => busy);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!pending || busy) return;
    busy = true;
    let stale = false;
    try {
      const run = pending.run;
      const after = await withBusy(form, () => run());
      confirmed = true;
      busy = false;
      element.close();
      after();
    } catch (failure) {
      showError(error, failure, {}, errorAction(failure));
      const status = /** @type {{ status?: number }} */ (failure).status;
      stale = status === 404 || status === 409 || status === 412;
    } finally {
      busy = false;
    }
    if (stale) {
      // Someone else changed or deleted the key: show the list as it is now, and do not offer the action again.
      ok.disabled = true;
      await onStale();
    }
  });

  element.addEventListener('close', () => {
    if (!confirmed && pending) onDismissed(pending.key);
    replaceChildren(extra);
  });

  return {
    element,
    open(confirmation) {
      pending = confirmation;
      confirmed = false;
      title.textContent = confirmation.title;
      replaceChildren(message, ...confirmation.message);
      replaceChildren(extra, confirmation.extra ?? null);
      clearError(error);
      ok.textContent = confirmation.confirmLabel;
      ok.disabled = false;
      ok.className = `kw-button ${confirmation.danger ? 'kw-danger' : 'kw-primary'}`;
      element.showModal();
      // The safe choice has the focus.
      cancel.focus();
    },
  };
}
