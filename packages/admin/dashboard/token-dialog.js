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
  const copyButton = h('button', { type: 'button', class: 'kw-button' }, 'Copy');
  const copyStatus = h('p', { class: 'kw-hint kw-copy-status', role: 'status' });
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
  const curlButton = h('button', { type: 'button', class: 'kw-button' }, 'Copy command');
  const curlStatus = h('p', { class: 'kw-hint kw-copy-status', role: 'status' });
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
    h('div', { class: 'kw-copy-row' }, curl, curlButton),
    curlStatus,
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
          h('div', { class: 'kw-copy-row' }, input, copyButton),
          copyStatus,
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

  copyButton.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      copyStatus.textContent = 'Copied to the clipboard.';
    } catch {
      input.select();
      copyStatus.textContent = 'Copying did not work: the key is selected, copy it with Ctrl+C (⌘C).';
    }
  });

  curlButton.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(curl.value);
      curlStatus.textContent = 'Copied to the clipboard.';
    } catch {
      curl.select();
      curlStatus.textContent = 'Copying did not work: the command is selected, copy it with Ctrl+C (⌘C).';
    }
  });

  element.addEventListener('close', () => {
    // The token is gone from the page once the dialog is closed.
    input.value = '';
    curl.value = '';
    header.textContent = '';
    curlStatus.textContent = '';
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
      const how = callApi();
      call.hidden = how === null;
      if (how) {
        const base = new URL(how.baseUrl, window.location.href).href.replace(/\/+$/, '');
        baseUrl.textContent = base;
        header.textContent = headerLine(how.header, token);
        curl.value = `curl -H '${headerLine(how.header, token)}' ${base}${how.examplePath}`;
      }
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
