// The dialog that shows a new token once (after create or roll), with a copy button. Builds its own
// <dialog>; the token leaves the page when the dialog closes.

import { h, replaceChildren } from './dom.js';
import { setupDialog } from './feedback.js';
import { relativeTime, shortDateTime } from './format.js';

/** @typedef {import('./api.js').Key} Key */

/**
 * @param {{ onClosed: (key: Key) => void }} deps `onClosed` gets the key the token belongs to (e.g. to
 *   put the focus on its row)
 * @returns {{ element: HTMLDialogElement, open: (key: Key, token: string, previous: Key | null) => void }}
 */
export function createTokenDialog({ onClosed }) {
  /** @type {Key | null} */
  let current = null;
  const title = h('h2', { class: 'kw-dialog-title', id: 'kw-token-title' }, 'Your new API key');
  const note = h('p', { class: 'kw-callout', id: 'kw-token-note' });
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      class: 'kw-input kw-mono',
      id: 'kw-token-value',
      readonly: true,
      spellcheck: 'false',
      autocomplete: 'off',
    })
  );
  const copyButton = h('button', { type: 'button', class: 'kw-button' }, 'Copy');
  const copyStatus = h('p', { class: 'kw-hint kw-copy-status', role: 'status' });
  const extra = h('p', { class: 'kw-hint' });
  const element = /** @type {HTMLDialogElement} */ (
    h(
      'dialog',
      {
        class: 'kw-dialog',
        id: 'kw-token-dialog',
        'aria-labelledby': title.id,
        'aria-describedby': note.id,
      },
      h(
        'div',
        { class: 'kw-form' },
        title,
        note,
        h(
          'div',
          { class: 'kw-field' },
          h('label', { class: 'kw-label', for: input.id }, 'API key'),
          h('div', { class: 'kw-copy-row' }, input, copyButton),
          copyStatus,
        ),
        extra,
        h(
          'div',
          { class: 'kw-dialog-actions' },
          h('button', { type: 'button', class: 'kw-button kw-primary', 'data-close': true }, 'Done'),
        ),
      ),
    )
  );
  setupDialog(element);

  copyButton.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      copyStatus.textContent = 'Copied to the clipboard.';
    } catch {
      input.select();
      copyStatus.textContent = 'Copying did not work: the key is selected, copy it with Ctrl+C (⌘C).';
    }
  });

  element.addEventListener('close', () => {
    // The token is gone from the page once the dialog is closed.
    input.value = '';
    copyStatus.textContent = '';
    replaceChildren(extra);
    if (current) onClosed(current);
  });

  return {
    element,
    open(key, token, previous) {
      current = key;
      title.textContent = previous ? 'Your new key (rolled)' : 'Your new API key';
      note.textContent =
        key.type === 'secret'
          ? 'Copy this secret key now and keep it somewhere safe, such as a secrets manager. It will not be shown again.'
          : 'This public key can be published (in a web page or an app) and shown again from the table.';
      note.classList.toggle('kw-callout-warning', key.type === 'secret');
      input.value = token;
      copyStatus.textContent = '';
      replaceChildren(extra, ...details(key, previous));
      element.showModal();
      copyButton.focus();
    },
  };
}

/** When the old key stops working (after a roll), or when the new key expires. @param {Key} key @param {Key | null} previous */
function details(key, previous) {
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
