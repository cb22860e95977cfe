// The dialog that shows a new token once (after create or roll), with a copy button. Builds its own
// <dialog>; the token leaves the page when the dialog closes.

import { h, replaceChildren } from './dom.js';
import { setupDialog } from './feedback.js';
import { relativeTime, shortDateTime } from './format.js';

/** @typedef {import('./api.js').Key} Key */

/**
 * How to call the app's API with a key, as the host app says (`apiBaseUrl`, the header's name and an
 * example path); `null` when it says nothing.
 * @typedef {{ baseUrl: string, header: string, examplePath: string }} CallApi
 */

/**
 * The header line that carries `token`: `Authorization: Bearer <token>`, or `<Header>: <token>`.
 * @param {string} header @param {string} token
 */
export function headerLine(header, token) {
  return header.toLowerCase() === 'authorization' ? `Authorization: Bearer ${token}` : `${header}: ${token}`;
}

/**
 * @param {{ onClosed: (key: Key) => void, callApi?: () => CallApi | null }} deps `onClosed` gets the key
 *   the token belongs to (e.g. to put the focus on its row); `callApi`: what the "Call the API" part shows
 * @returns {{ element: HTMLDialogElement, open: (key: Key, token: string, previous: Key | null) => void }}
 */
export function createTokenDialog({ onClosed, callApi = () => null }) {
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
  const copy = copyable(input, 'Copy', 'the key');
  const extra = h('p', { class: 'kw-hint' });
  // "Call the API": the base URL, the header and a curl line with the new key, to copy.
  const baseUrl = h('code', { class: 'kw-mono', id: 'kw-call-base' });
  const header = h('code', { class: 'kw-mono', id: 'kw-call-header' });
  const curl = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      class: 'kw-input kw-mono kw-curl',
      id: 'kw-call-curl',
      readonly: true,
      rows: '3',
      spellcheck: 'false',
    })
  );
  const curlCopy = copyable(curl, 'Copy command', 'the command');
  const callTitle = h('h3', { class: 'kw-label kw-call-title', id: 'kw-call-title' }, 'Call the API');
  const call = h(
    'section',
    { class: 'kw-call', id: 'kw-call', 'aria-labelledby': callTitle.id, hidden: true },
    callTitle,
    h(
      'dl',
      { class: 'kw-call-facts' },
      h('dt', {}, 'Base URL'),
      h('dd', {}, baseUrl),
      h('dt', {}, 'Header'),
      h('dd', {}, header),
    ),
    h('label', { class: 'kw-label', for: curl.id }, 'With curl'),
    curlCopy.row,
    curlCopy.status,
  );
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
          copy.row,
          copy.status,
        ),
        extra,
        call,
        h(
          'div',
          { class: 'kw-dialog-actions' },
          h('button', { type: 'button', class: 'kw-button kw-primary', 'data-close': true }, 'Done'),
        ),
      ),
    )
  );
  setupDialog(element);

  element.addEventListener('close', () => {
    // The token is gone from the page once the dialog is closed.
    input.value = '';
    curl.value = '';
    header.textContent = '';
    curlCopy.status.textContent = '';
    copy.status.textContent = '';
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
      copy.status.textContent = '';
      replaceChildren(extra, ...details(key, previous));
      const how = callApi();
      call.hidden = how === null;
      if (how) {
        const base = new URL(how.baseUrl, window.location.href).href.replace(/\/+$/, '');
        baseUrl.textContent = base;
        header.textContent = headerLine(how.header, token);
        curl.value = `curl -H '${headerLine(how.header, token)}' ${base}${how.examplePath}`;
      }
      element.showModal();
      copy.button.focus();
    },
  };
}

/**
 * A copy button for `field` and the status line that says how copying went; where the clipboard refuses,
 * the text is selected for the user to copy.
 *
 * @param {HTMLInputElement | HTMLTextAreaElement} field
 * @param {string} label the button's text
 * @param {string} what what the field holds, for the status line ("the key")
 */
function copyable(field, label, what) {
  const button = h('button', { type: 'button', class: 'kw-button' }, label);
  const status = h('p', { class: 'kw-hint kw-copy-status', role: 'status' });
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = 'Copied to the clipboard.';
    } catch {
      field.select();
      status.textContent = `Copying did not work: ${what} is selected, copy it with Ctrl+C (⌘C).`;
    }
  });
  return { button, status, row: h('div', { class: 'kw-copy-row' }, field, button) };
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
