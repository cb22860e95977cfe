// Showing outcomes: errors from the API (its error.message and per-field details), announcements for
// screen readers, and <dialog> wiring.

import { ApiError } from './api.js';
import { h, replaceChildren } from './dom.js';

/** Field names of the API as people read them. */
const FIELD_LABELS = /** @type {Record<string, string>} */ ({
  name: 'Name',
  type: 'Type',
  scopes: 'Scopes',
  expiresAt: 'Expiration date',
  gracePeriodSeconds: 'Grace period',
  disabled: 'Disabled',
  limits: 'Rate limits',
  allowedOrigins: 'Allowed origins',
  allowedIps: 'Allowed IP addresses',
});

/**
 * Any thrown value as an ApiError (a bug in the page becomes a generic message).
 *
 * @param {unknown} error
 * @returns {ApiError}
 */
export function asApiError(error) {
  if (error instanceof ApiError) return error;
  return new ApiError(0, 'page_error', 'Something went wrong on this page. Reload it and try again.');
}

/**
 * Shows an error in `box` (a `role="alert"` element): the server's message, then one line per detail.
 * Fields named in `fields` by the detail paths get `aria-invalid`.
 *
 * @param {HTMLElement} box
 * @param {unknown} error
 * @param {Record<string, HTMLElement>} [fields]
 * @param {HTMLElement | null} [action] e.g. a "Try again" button
 */
export function showError(box, error, fields = {}, action = null) {
  const { message, details } = asApiError(error);
  const lines = details.map((detail) => {
    const field = detail.path.split('.')[0] ?? '';
    fields[field]?.setAttribute('aria-invalid', 'true');
    const label = FIELD_LABELS[field] ?? (field || 'Request');
    return h('li', {}, `${label}: ${detail.message}`);
  });
  replaceChildren(
    box,
    h('p', { class: 'kw-error-message' }, message),
    lines.length > 0 && h('ul', { class: 'kw-error-details' }, lines),
    action,
  );
  box.classList.add('kw-shown');
}

/**
 * Shows a problem the page found itself (before asking the server) and puts the focus on its field.
 *
 * @param {HTMLElement} box
 * @param {string} message
 * @param {HTMLElement} field
 */
export function showMessage(box, message, field) {
  replaceChildren(box, h('p', { class: 'kw-error-message' }, message));
  box.classList.add('kw-shown');
  field.setAttribute('aria-invalid', 'true');
  field.focus();
}

/**
 * Empties an error box and clears `aria-invalid` on the fields.
 *
 * @param {HTMLElement} box
 * @param {Record<string, HTMLElement>} [fields]
 */
export function clearError(box, fields = {}) {
  replaceChildren(box);
  box.classList.remove('kw-shown');
  for (const field of Object.values(fields)) field.removeAttribute('aria-invalid');
}

/**
 * Tells screen readers what just happened, through the page's `role="status"` region.
 *
 * @param {HTMLElement} region
 * @param {string} text
 */
export function announce(region, text) {
  region.textContent = '';
  // A separate task, so the same text twice in a row is announced twice.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/**
 * A form dialog's buttons: Cancel (closes it) and the primary submit button, which says `busyLabel`
 * while the form is busy (see `withBusy`).
 *
 * @param {string} submitLabel
 * @param {string} busyLabel
 */
export function formActions(submitLabel, busyLabel) {
  return h(
    'div',
    { class: 'kw-dialog-actions' },
    h('button', { type: 'button', class: 'kw-button', 'data-close': true }, 'Cancel'),
    h('button', { type: 'submit', class: 'kw-button kw-primary', 'data-busy-label': busyLabel }, submitLabel),
  );
}

/**
 * Wires a `<dialog>`: `[data-close]` buttons close it, and Escape does not close it while `isBusy()`.
 *
 * @param {HTMLDialogElement} dialog
 * @param {() => boolean} [isBusy]
 */
export function setupDialog(dialog, isBusy = () => false) {
  for (const button of dialog.querySelectorAll('[data-close]')) {
    button.addEventListener('click', () => {
      if (!isBusy()) dialog.close();
    });
  }
  dialog.addEventListener('cancel', (event) => {
    if (isBusy()) event.preventDefault();
  });
}
