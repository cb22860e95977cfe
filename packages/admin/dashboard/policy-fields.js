// The policy fields of the create and edit dialogs (docs/reference.md §6): up to 3 limits (requests per window),
// allowed origins (public keys only) and allowed IPs. The server checks every value (one schema, in core);
// its 400 details are shown beside the field they are about.

import { h, replaceChildren } from './dom.js';

/** @typedef {import('./api.js').Key} Key */
/** @typedef {import('./api.js').Detail} Detail */
/** @typedef {{ limit: number, windowSeconds: number }} Limit */
/** @typedef {{ limits: Limit[], allowedOrigins: string[], allowedIps: string[] }} Policies */

/** The most limits a key may carry. */
const MAX_LIMITS = 3;
/** @type {Array<[number, string]>} */
const UNITS = [
  [86_400, 'days'],
  [3_600, 'hours'],
  [60, 'minutes'],
  [1, 'seconds'],
];

/**
 * A window in seconds as a count of the largest unit that divides it: 86400 → 1 day, 90 → 90 seconds.
 * @param {number} seconds
 * @returns {[number, number]} count and unit (seconds)
 */
export function splitWindow(seconds) {
  for (const [unit] of UNITS) if (seconds >= unit && seconds % unit === 0) return [seconds / unit, unit];
  return [seconds, 1];
}

/** Lines of a textarea, trimmed, empty ones left out. @param {string} text */
const lines = (text) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

/**
 * @param {string} prefix id prefix, e.g. "kw-create"
 * @param {{ keyType: () => 'public' | 'secret', defaultsHint?: string }} options `defaultsHint`: said
 *   under the limits when none is set (create: the app's defaults apply)
 */
export function policyFields(prefix, { keyType, defaultsHint = 'No limit: the key is not rate limited.' }) {
  let rowCount = 0;
  const limitRows = h('div', { class: 'kw-limit-rows' });
  const limitsHint = h('p', { class: 'kw-hint', id: `${prefix}-limits-hint` });
  const limitsError = h('p', { class: 'kw-field-error', id: `${prefix}-limits-error` });
  const addLimit = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'kw-button kw-small' }, 'Add a limit')
  );
  const limits = /** @type {HTMLFieldSetElement} */ (
    h(
      'fieldset',
      {
        class: 'kw-field kw-fieldset',
        id: `${prefix}-limits`,
        'aria-describedby': `${limitsHint.id} ${limitsError.id}`,
      },
      h('legend', { class: 'kw-label' }, 'Rate limits'),
      limitRows,
      h('div', {}, addLimit),
      limitsHint,
      limitsError,
    )
  );

  const textarea = (/** @type {string} */ name, /** @type {string} */ placeholder) =>
    /** @type {HTMLTextAreaElement} */ (
      h('textarea', {
        class: 'kw-input kw-textarea kw-mono',
        id: `${prefix}-${name}`,
        name,
        rows: '3',
        spellcheck: 'false',
        autocomplete: 'off',
        placeholder,
        'aria-describedby': `${prefix}-${name}-hint ${prefix}-${name}-error`,
      })
    );
  const origins = textarea('allowed-origins', 'https://app.example.com');
  const ips = textarea('allowed-ips', '203.0.113.7');
  const originsError = h('p', { class: 'kw-field-error', id: `${origins.id}-error` });
  const ipsError = h('p', { class: 'kw-field-error', id: `${ips.id}-error` });
  /**
   * A list field: its label, the textarea, a hint and the error line.
   * @param {HTMLTextAreaElement} input @param {string} label @param {string} hint @param {HTMLElement} error
   */
  const listField = (input, label, hint, error) =>
    h(
      'div',
      { class: 'kw-field' },
      h('label', { class: 'kw-label', for: input.id }, label),
      input,
      h('p', { class: 'kw-hint', id: `${input.id}-hint` }, hint),
      error,
    );
  const originsField = listField(
    origins,
    'Allowed origins',
    'One per line, e.g. https://app.example.com or https://*.example.com. Empty: any website.',
    originsError,
  );
  const element = h(
    'div',
    { class: 'kw-policies' },
    limits,
    originsField,
    listField(
      ips,
      'Allowed IP addresses',
      'One per line: addresses or CIDR ranges, e.g. 203.0.113.7 or 10.0.0.0/8. Empty: any address.',
      ipsError,
    ),
  );

  /** @param {Limit} [initial] */
  function addRow(initial) {
    const n = ++rowCount;
    const [count, unit] = initial ? splitWindow(initial.windowSeconds) : [1, 1];
    const limit = h('input', {
      class: 'kw-input kw-input-number',
      type: 'number',
      min: '1',
      step: '1',
      inputmode: 'numeric',
      name: 'limit',
      value: initial ? String(initial.limit) : '',
      'aria-label': 'Requests',
    });
    const windowCount = h('input', {
      class: 'kw-input kw-input-number',
      type: 'number',
      min: '1',
      step: '1',
      inputmode: 'numeric',
      name: 'windowCount',
      value: String(count),
      'aria-label': 'Window length',
    });
    const windowUnit = h(
      'select',
      { class: 'kw-input kw-input-unit', name: 'windowUnit', 'aria-label': 'Window unit' },
      UNITS.map(([seconds, label]) =>
        h('option', { value: String(seconds), selected: seconds === unit }, label),
      ),
    );
    const remove = h('button', { type: 'button', class: 'kw-button kw-small' }, 'Remove');
    const row = h(
      'div',
      { class: 'kw-limit-row', role: 'group', 'data-limit-row': String(n) },
      limit,
      h('span', { class: 'kw-limit-per', 'aria-hidden': 'true' }, 'per'),
      windowCount,
      windowUnit,
      remove,
    );
    remove.addEventListener('click', () => {
      const next = row.nextElementSibling ?? row.previousElementSibling;
      row.remove();
      renumber();
      // The focus stays in the field: on the next row's first input, else on "Add a limit".
      const target = next?.querySelector('input');
      (target instanceof HTMLInputElement ? target : addLimit).focus();
    });
    limitRows.append(row);
    renumber();
    return limit;
  }

  /** Row labels say which limit they are ("Requests, limit 2"); "Add" hides at the maximum. */
  function renumber() {
    const rows = [...limitRows.children];
    rows.forEach((row, index) => {
      row.setAttribute('aria-label', `Limit ${index + 1}`);
      for (const control of row.querySelectorAll('input, select')) {
        const base = control.getAttribute('aria-label')?.replace(/, limit \d+$/, '') ?? '';
        control.setAttribute('aria-label', `${base}, limit ${index + 1}`);
      }
      const remove = row.querySelector('button');
      remove?.setAttribute('aria-label', `Remove limit ${index + 1}`);
    });
    addLimit.hidden = rows.length >= MAX_LIMITS;
    limitsHint.textContent =
      rows.length === 0
        ? defaultsHint
        : `Each limit is enforced; at most ${MAX_LIMITS}, each with its own window.`;
  }

  addLimit.addEventListener('click', () => addRow().focus());

  function update() {
    originsField.hidden = keyType() !== 'public';
  }

  /** @returns {Limit[]} */
  function limitValues() {
    return [...limitRows.children].map((row) => {
      const value = (/** @type {string} */ name) =>
        /** @type {HTMLInputElement | HTMLSelectElement} */ (row.querySelector(`[name="${name}"]`)).value;
      // Sent as typed (an empty field is 0): the server's message says what is wrong with a value.
      return {
        limit: Number(value('limit')),
        windowSeconds: Number(value('windowCount')) * Number(value('windowUnit')),
      };
    });
  }

  /** Empties the per-field messages and `aria-invalid`. */
  function clear() {
    for (const box of [limitsError, originsError, ipsError]) replaceChildren(box);
    for (const control of element.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  }

  return {
    element,
    /** The field an API detail path ("limits.1.windowSeconds") points at, for the dialog's error box. */
    fields: { limits, allowedOrigins: origins, allowedIps: ips },
    update,
    clear,
    /**
     * Fills the fields from a key (edit) or empties them (create).
     * @param {Partial<Policies>} [key]
     */
    reset(key = {}) {
      clear();
      replaceChildren(limitRows);
      rowCount = 0;
      for (const limit of key.limits ?? []) addRow(limit);
      renumber();
      origins.value = (key.allowedOrigins ?? []).join('\n');
      ips.value = (key.allowedIps ?? []).join('\n');
      update();
    },
    /** @returns {Policies} what the fields say now (origins empty for secret keys) */
    value() {
      return {
        limits: limitValues(),
        allowedOrigins: keyType() === 'public' ? lines(origins.value) : [],
        allowedIps: lines(ips.value),
      };
    },
    /**
     * Shows the server's details for these fields beside them ("Limit 2: Must be …", "Line 3: Must be …").
     * @param {Detail[]} details
     */
    showDetails(details) {
      /** @type {Map<HTMLElement, string[]>} */
      const messages = new Map();
      for (const { path, message } of details) {
        const [field, index, part] = path.split('.');
        const at = index === undefined ? '' : Number(index) + 1;
        if (field === 'limits') {
          const row = limitRows.children[Number(index)];
          const control = row?.querySelector(part === 'limit' ? '[name="limit"]' : '[name="windowCount"]');
          control?.setAttribute('aria-invalid', 'true');
          if (!row) limits.setAttribute('aria-invalid', 'true');
          messages.set(limitsError, [
            ...(messages.get(limitsError) ?? []),
            at ? `Limit ${at}: ${message}` : message,
          ]);
        } else if (field === 'allowedOrigins' || field === 'allowedIps') {
          const [control, box] = field === 'allowedOrigins' ? [origins, originsError] : [ips, ipsError];
          control.setAttribute('aria-invalid', 'true');
          const line = at ? `Line ${at} (${lines(control.value)[Number(index)] ?? ''}): ${message}` : message;
          messages.set(box, [...(messages.get(box) ?? []), line]);
        }
      }
      for (const [box, list] of messages) replaceChildren(box, list.join(' '));
    },
  };
}

/**
 * Whether two policy lists are the same (same entries, same order).
 * @param {unknown[]} a
 * @param {unknown[]} b
 */
export function samePolicies(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
